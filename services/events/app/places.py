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
        if seats.take(activity, {"status": {"$in": list(PROMOTES_WHILE)}, **seats.PROMOTION},
                      confirmed=1, waiting=-1) is None:
            return promoted
        written = versioned.write(first, [(REGISTRATION_PROMOTED, lambda r: registration_data(r, activity, "waitlist"))],
                                  conditions={"status": "waitlisted"}, sets={"status": "confirmed", "promoted_at": utcnow()})
        if written:
            promoted += 1
        else:
            seats.give_back(activity.pk, confirmed=1, waiting=-1)  # another settle promoted it, or it was
            # cancelled: next in line


def repair(_settings=None) -> int:
    """The worker's job: recount activities whose counts a request dying half way left wrong, then
    promote into any place that came back."""
    repaired = seats.repair()
    for activity in Activity.objects(pk__in=repaired):
        settle(activity)
    return len(repaired)
