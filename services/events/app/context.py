"""What every use case receives besides its input."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from shared.auth import Caller
from shared.config import Settings


@dataclass
class Context:
    who: Caller
    settings: Settings
    request_id: str | None = None
    paths: dict[str, list[str] | None] = field(default_factory=dict)  # organisation paths read for this context
    cache: dict = field(default_factory=dict)  # what one request reads more than once (the caller's member view)


@dataclass
class Found:
    """What a listing use case returns: the rows (a queryset, paged by the view) and a filter applied
    to each page after the query (None when the query alone decides)."""
    rows: object
    keep: Callable[[list], list] | None
