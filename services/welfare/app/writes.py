"""``shared.versioned.write`` for welfare's documents, without an outbox pointer when a change publishes
nothing (a home visit, an objection's resolution): the same guarded write, the version bumped."""
from __future__ import annotations

from shared import versioned


def write(obj, events=(), conditions: dict | None = None, sets: dict | None = None) -> bool:
    if events:
        return versioned.write(obj, events, conditions=conditions, sets=sets)
    sets, version = sets or {}, obj.version
    changed = type(obj).objects(pk=obj.pk, version=version, **(conditions or {})).update_one(
        set__version=version + 1, **{f"set__{key}": value for key, value in sets.items()})
    if changed:
        for key, value in sets.items():
            setattr(obj, key, value)
        obj.version = version + 1
    return bool(changed)
