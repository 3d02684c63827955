"""One way to change a versioned document (an ``OutboxDocument`` with a ``version`` field): read it,
decide, then write the change, the version bump and the events it causes in one atomic update
guarded by the version that was read. A writer that lost a race reads again and decides again."""
from __future__ import annotations

from typing import Callable, TypeVar

from .db import is_duplicate_key
from .errors import Conflict

T = TypeVar("T")


def write(obj, events: list[tuple[object, Callable]] = (), conditions: dict | None = None, sets: dict | None = None,
          **updates) -> bool:
    """Apply ``sets`` to ``obj`` and to its stored document, bump the version and append the events
    ``[(EventType, build)]`` (each ``build(obj)`` sees the changed object), plus any other mongoengine
    ``updates`` (``push__history=...``, ``inc__paid_fen=...``), in one write guarded by the version
    read and ``conditions``. False when the document changed meanwhile; ``obj`` is then as it was."""
    sets = sets or {}
    before, version = {key: getattr(obj, key) for key in sets}, obj.version
    for key, value in sets.items():
        setattr(obj, key, value)
    obj.version = version + 1
    written = type(obj).update_with_events(
        obj.pk, [(event_type, build(obj)) for event_type, build in events],
        conditions={"version": version, **(conditions or {})}, set__version=obj.version,
        **{f"set__{key}": value for key, value in sets.items()}, **updates)
    if not written:
        for key, value in before.items():
            setattr(obj, key, value)
        obj.version = version
    return written


def retried(attempt: Callable[[], T | None], what: str, attempts: int = 5) -> T:
    """Run ``attempt`` (read, decide, ``write``; None when the write lost a race) until it returns a
    result; 409 after ``attempts`` lost races."""
    for _ in range(attempts):
        result = attempt()
        if result is not None:
            return result
    raise Conflict(f"the {what} kept changing; read it again and retry")


def insert(obj, refusal: Callable[[], Exception]):
    """Insert a new document (with the events it recorded); when a unique index refuses it, raise
    ``refusal()`` instead (the request names something that exists already)."""
    try:
        obj.save(force_insert=True)
    except Exception as exc:
        if is_duplicate_key(exc):
            raise refusal() from exc
        raise
    return obj
