"""An activity's places, counted on the activity so that capacity holds under racing processes.

The counters (``confirmed``, ``free`` = capacity - confirmed, ``waiting``, ``tickets``) change only by
atomic conditional increments of the activity document: a place is taken only if one is free, in one
write, whatever number of processes race. Each change also bumps ``changes`` and ``changed_at``.

The registrations are the record the counts summarise. A process that dies between taking a place and
writing its registration leaves a count too high; the worker's ``repair`` recounts an activity once it
has been quiet for a while (no request can still be on its way), in a write guarded by ``changes`` so
that it never overwrites a count that moved meanwhile. Plain increments keep the hot document fast:
array updates on it under fifty racing clients were ten times slower on the local engine.
"""
from __future__ import annotations

from datetime import timedelta

from bson import ObjectId
from pymongo import ReturnDocument

from shared.events.envelope import utcnow

from ..documents import Activity, Registration

NEW_PLACE = {"$or": [{"capacity": None}, {"free": {"$gt": 0}, "waiting": 0}]}  # nobody waits ahead
PROMOTION = {"waiting": {"$gt": 0}, "$or": [{"capacity": None}, {"free": {"$gt": 0}}]}
QUIET = timedelta(minutes=2)  # far beyond any request's time limit (gunicorn's is 30 s)
RECENT = timedelta(hours=1)  # how far back repair looks for activities that changed


def _collection():
    return Activity._get_collection()


def _delta(capacity, confirmed: int, waiting: int) -> dict:
    delta = {"confirmed": confirmed, "waiting": waiting, "free": -confirmed if capacity is not None else 0}
    return {key: value for key, value in delta.items() if value}


def take(activity, conditions: dict, confirmed: int = 0, waiting: int = 0, ticket: bool = False) -> dict | None:
    """Change the counts of ``activity`` (as read: its capacity decides whether ``free`` counts) if
    ``conditions`` hold; returns the activity after (its ``tickets`` is the ticket handed out when
    ``ticket``), or None."""
    activity_id, capacity = activity.pk, activity.capacity
    for _ in range(3):  # again only if the capacity changed since it was read (the delta depends on it)
        inc = {**_delta(capacity, confirmed, waiting), "changes": 1, **({"tickets": 1} if ticket else {})}
        after = _collection().find_one_and_update(
            {"_id": activity_id, "capacity": capacity, **conditions},
            {"$inc": inc, "$set": {"changed_at": utcnow()}}, return_document=ReturnDocument.AFTER)
        if after is not None:
            return after
        current = _collection().find_one({"_id": activity_id}, {"capacity": 1})
        if current is None or current.get("capacity") == capacity:
            return None
        capacity = current.get("capacity")
    return None


def give_back(activity_id: ObjectId, confirmed: int = 0, waiting: int = 0) -> None:
    """Undo a ``take`` whose registration write did not happen."""
    current = _collection().find_one({"_id": activity_id}, {"capacity": 1}) or {}
    delta = _delta(current.get("capacity"), confirmed, waiting)
    _collection().update_one({"_id": activity_id}, {"$inc": {**{k: -v for k, v in delta.items()}, "changes": 1},
                                                    "$set": {"changed_at": utcnow()}})


def recount(activity_id: ObjectId, now=None) -> bool:
    """Make a quiet activity's counts those of its registrations; True when they were wrong."""
    raw = _collection().find_one({"_id": activity_id}, {"capacity": 1, "confirmed": 1, "waiting": 1,
                                                        "changes": 1, "changed_at": 1})
    if raw is None or (raw.get("changed_at") and raw["changed_at"] > (now or utcnow()) - QUIET):
        return False
    confirmed = Registration.objects(activity_id=activity_id, status="confirmed").count()
    waiting = Registration.objects(activity_id=activity_id, status="waitlisted").count()
    if (raw.get("confirmed", 0), raw.get("waiting", 0)) == (confirmed, waiting):
        return False
    capacity = raw.get("capacity")
    return bool(_collection().update_one(
        {"_id": activity_id, "changes": raw.get("changes")},
        {"$set": {"confirmed": confirmed, "waiting": waiting,
                  "free": None if capacity is None else capacity - confirmed}}).modified_count)


def repair(now=None) -> list[ObjectId]:
    """Recount the activities that changed within the last hour and have been quiet since; returns those
    whose counts were wrong (a process died half way)."""
    now = now or utcnow()
    changed = _collection().find({"changed_at": {"$gte": now - RECENT, "$lt": now - QUIET}}, {"_id": 1})
    return [raw["_id"] for raw in changed if recount(raw["_id"], now)]
