"""Small helpers over iterables."""
from __future__ import annotations

from itertools import islice
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of ``size`` items (the last one shorter), without holding more than one at a time."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
