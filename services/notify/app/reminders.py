"""Reminders 24 hours and 1 hour before an activity, to each member whose place is confirmed, through
the channels the member chose. The worker looks every minute for the activities whose next reminder is
due (index on ``next_reminder_at``), tells their registrants a page at a time, then moves the activity on
to its next reminder. A worker that stops half-way tells the rest after a restart: each message has its
key (activity × stage × member × channel), so nobody hears the same reminder twice; a cancelled
activity has no next reminder, a cancelled registration is not confirmed. An email or SMS reminder the
member's quiet hours would hold until after the activity has begun is not sent (the inbox has it)."""
from __future__ import annotations

import logging

from shared.events.envelope import aware, utcnow

from .. import domain
from ..documents import ActivityView, Recipient, RegistrationView
from ..domain.reminders import due_stage, next_reminder_at
from ..domain.templates import REMINDER, REMINDERS, render
from .outgoing import queue
from .reach import Reach

log = logging.getLogger(__name__)
PAGE = 1000
HOLDING = "confirmed"


def _tell(activity: dict, stage: str, now=None) -> int:
    """Every confirmed registrant of the activity, a page at a time; returns how many were reached."""
    from ..consumed import deliver_many

    template = REMINDERS[REMINDER + stage]
    event_id = f"reminder:{activity['_id']}:{stage}"
    starts_at = aware(activity["starts_at"])
    data = {"activity_id": activity["_id"], "title": activity.get("title") or "", "venue": activity.get("venue") or "",
            "starts_at": starts_at.isoformat()}
    reached, after = 0, None
    while True:
        query = {"activity_id": activity["_id"], "status": HOLDING}
        if after is not None:
            query["_id"] = {"$gt": after}
        rows = list(RegistrationView._get_collection().find(query, {"member_id": 1}).sort("_id", 1).limit(PAGE))
        if not rows:
            return reached
        after = rows[-1]["_id"]
        member_ids = [row["member_id"] for row in rows]
        people = {row["_id"]: row for row in Recipient._get_collection().find(
            {"_id": {"$in": member_ids}}, {"name": 1, "org_path": 1})}
        reach = Reach.load(member_ids, now=now)
        items, deliveries = [], []
        for member_id in member_ids:
            person = people.get(member_id) or {}
            extra, path = {"name": person.get("name") or ""}, person.get("org_path") or []
            if reach.wants(member_id, template.category, "inbox"):
                items.append((member_id, path, domain.from_template(template.event_type, event_id, member_id, data,
                                                                    extra)))
            deliveries += reach.deliveries(event_type=template.event_type, event_id=event_id, member_id=member_id,
                                           org_path=path, category=template.category, useless_after=starts_at,
                                           render=lambda channel, x=extra: render(template, channel, data, extra=x))
        queue(deliveries)
        deliver_many(items)
        reached += len(member_ids)


def remind(settings=None, now=None) -> int:
    """The worker's periodic job: every reminder due now. Returns the reminders sent (stages × activities)."""
    now = now or utcnow()
    collection = ActivityView._get_collection()
    sent = 0
    for activity in collection.find({"next_reminder_at": {"$lte": now}}).sort("next_reminder_at", 1):
        starts_at, reminded = aware(activity["starts_at"]), list(activity.get("reminded") or [])
        stage = due_stage(starts_at, now, reminded) if activity.get("status") == "published" else None
        if stage is not None:
            reached = _tell(activity, stage, now)
            reminded.append(stage)
            sent += 1
            log.info("activity reminder sent", extra={"activity": activity["_id"], "stage": stage, "reached": reached})
        following = None if now >= starts_at or activity.get("status") != "published" else next_reminder_at(
            starts_at, reminded)
        collection.update_one({"_id": activity["_id"], "status": activity.get("status")},
                              {"$set": {"reminded": reminded, "next_reminder_at": following}})
    return sent
