"""Promotion from the waitlist (候补): whenever a place may have come free, the first waiting
registration (by ticket) takes it, in the same request, until no place or nobody is left."""
from __future__ import annotations

from shared import versioned
from shared.events.envelope import utcnow

from ..documents import Activity, Registration
from ..published.activities import REGISTRATION_PROMOTED, registration_data
from . import seats

PROMOTES_WHILE = ("published", "closed", "ongoing")


def settle(activity: Activity) -> int:
    """Promote while places are free and members wait; returns how many were promoted. Racing settles
    each take a place atomically before promoting, so none promotes past capacity."""
    promoted = 0
    while True:
        first = Registration.objects(activity_id=activity.pk, status="waitlisted").order_by("ticket").first()
        if first is None:
            return promoted
        taken = seats.take(activity.pk, first.pk, {"status": {"$in": list(PROMOTES_WHILE)}, **seats.PROMOTION},
                           confirmed=1, waiting=-1)
        if taken is None:
            return promoted
        op, _ = taken
        written = versioned.write(first, [(REGISTRATION_PROMOTED, lambda r: registration_data(r, activity, "waitlist"))],
                                  conditions={"status": "waitlisted"},
                                  sets={"status": "confirmed", "promoted_at": utcnow()}, push__ops=op)
        if written:
            seats.done(activity.pk, op)
            promoted += 1
        else:
            seats.undo(activity.pk, op)  # another settle promoted it, or it was cancelled: next in line


def repair(_settings=None) -> int:
    """The worker's job: give back places taken by requests that died half way, then promote."""
    repaired = seats.repair()
    for activity in Activity.objects(pk__in=list(repaired)):
        settle(activity)
    return len(repaired)
