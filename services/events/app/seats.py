"""An activity's places, counted on the activity so that capacity holds under racing processes.

Every change to the counters (``confirmed``, ``free`` = capacity - confirmed, ``waiting``) is one
atomic conditional update of the activity that also records the change as a pending ``op`` naming the
registration it is for; the registration's own write then names the same op, and the op is dropped.
A process that dies in between leaves the op pending: the worker (``repair``) undoes the counts of an
op whose registration never took it, so a crash can cost no place. Nothing here knows HTTP.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

from bson import ObjectId
from pymongo import ReturnDocument

from shared.events.envelope import utcnow

from ..documents import Activity, Registration

NEW_PLACE = {"$or": [{"capacity": None}, {"free": {"$gt": 0}, "waiting": 0}]}  # nobody waits ahead
PROMOTION = {"waiting": {"$gt": 0}, "$or": [{"capacity": None}, {"free": {"$gt": 0}}]}
STALE_AFTER = timedelta(minutes=5)  # far beyond any request's time limit


def _collection():
    return Activity._get_collection()


def _delta(raw: dict, confirmed: int = 0, waiting: int = 0) -> dict:
    delta = {"confirmed": confirmed, "waiting": waiting}
    if raw.get("capacity") is not None:
        delta["free"] = -confirmed
    return {key: value for key, value in delta.items() if value}


def take(activity_id: ObjectId, registration_id: ObjectId, conditions: dict, confirmed: int = 0,
         waiting: int = 0, ticket: bool = False) -> tuple[str, dict] | None:
    """Change the counts if ``conditions`` hold, as a pending op; returns (op, the activity after) or
    None. ``ticket``: hand out the next ticket too (first come, first served)."""
    op = uuid.uuid4().hex
    for _ in range(3):  # again only if the capacity changed under us (the delta depends on it)
        current = _collection().find_one({"_id": activity_id}, {"capacity": 1})
        if current is None:
            return None
        delta = _delta(current, confirmed, waiting)
        inc = {**delta, **({"tickets": 1} if ticket else {})}
        pending = {"op": op, "registration_id": registration_id, "delta": delta, "at": utcnow()}
        after = _collection().find_one_and_update(
            {"_id": activity_id, "capacity": current.get("capacity"), **conditions},
            {"$inc": inc, "$push": {"pending": pending}}, return_document=ReturnDocument.AFTER)  # (FerretDB 1.x
        # takes no projection on findAndModify)
        if after is not None:
            return op, after
        if _collection().find_one({"_id": activity_id}, {"capacity": 1}).get("capacity") == current.get("capacity"):
            return None
    return None


def done(activity_id: ObjectId, op: str) -> None:
    """The registration took the op: it no longer needs undoing."""
    _collection().update_one({"_id": activity_id}, {"$pull": {"pending": {"op": op}}})


def undo(activity_id: ObjectId, op: str) -> bool:
    """Give back an op's counts, once (whoever undoes it first: the request or the repair job)."""
    raw = _collection().find_one({"_id": activity_id, "pending.op": op}, {"pending": 1})
    if raw is None:
        return False
    delta = next(p["delta"] for p in raw["pending"] if p["op"] == op)
    return bool(_collection().update_one(
        {"_id": activity_id, "pending.op": op},
        {"$inc": {key: -value for key, value in delta.items()}, "$pull": {"pending": {"op": op}}}).modified_count)


def repair(now=None) -> set:
    """Undo the counts of ops left pending by a process that died before its registration's write;
    returns the activities that got places back (``places.repair`` then promotes)."""
    cutoff = (now or utcnow()) - STALE_AFTER
    repaired = set()
    for raw in _collection().find({"pending.at": {"$lt": cutoff}}, {"pending": 1}):
        for pending in raw["pending"]:
            if pending["at"] >= cutoff:
                continue
            if Registration.objects(pk=pending["registration_id"], ops=pending["op"]).count():
                done(raw["_id"], pending["op"])  # it landed; only the request's last step was lost
            elif undo(raw["_id"], pending["op"]):
                repaired.add(raw["_id"])
    return repaired
