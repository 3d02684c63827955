"""Loading objects for a caller: anything missing or out of scope is 404."""
from __future__ import annotations

from typing import Callable, TypeVar

from bson import ObjectId
from bson.errors import InvalidId

from .errors import Forbidden, NotFound

T = TypeVar("T")


def parse_id(value: str, what: str) -> ObjectId:
    try:
        return ObjectId(value)
    except (InvalidId, TypeError) as exc:
        raise NotFound(f"{what} not found") from exc


def get_visible(document: type[T], object_id: str, visible: Callable[[T], bool], what: str) -> T:
    """The object, if it exists and ``visible`` says the caller may see it."""
    obj = document.objects(pk=parse_id(object_id, what)).first()
    if obj is None or not visible(obj):
        raise NotFound(f"{what} not found")
    return obj


def require_role(caller, *roles: str) -> None:
    if not any(caller.has(r) for r in roles):
        raise Forbidden(f"this action needs one of the roles: {', '.join(roles)}")
