"""Events the members service consumes, each read through its own minimal schema."""
from __future__ import annotations

from bson import ObjectId
from marshmallow import EXCLUDE, Schema, fields

from shared import versioned
from shared.events.envelope import CloudEvent, utcnow

from . import domain
from .documents import HistoryEntry, Member, Participation
from .published import MEMBER_UPDATED, member_updated

EVENTS_TOPIC = "gonghui.events.v1"


class AttendanceRecorded(Schema):
    class Meta:
        unknown = EXCLUDE

    member_id = fields.String(required=True)
    attended_at = fields.AwareDateTime(required=True)


_ATTENDANCE_RECORDED = AttendanceRecorded()  # built once, not per event


def on_attendance(event: CloudEvent) -> None:
    """Remember the month a member took part in union life (idempotent upsert by _id)."""
    data = _ATTENDANCE_RECORDED.load(event.data)
    month = domain.month_of(data["attended_at"])  # Beijing time, whatever offset the sender used
    Participation._get_collection().update_one(
        {"_id": f"{data['member_id']}:{month}"},
        {"$set": {"member_id": data["member_id"], "month": month}}, upsert=True)


class AwardGranted(Schema):
    class Meta:
        unknown = EXCLUDE

    award_id = fields.String(required=True)
    activity_id = fields.String(required=True)
    member_id = fields.String(required=True)
    activity_title = fields.String(load_default="")
    award = fields.String(required=True)
    honour = fields.String(load_default=None, allow_none=True)


_AWARD_GRANTED = AwardGranted()


def on_award_granted(event: CloudEvent) -> None:
    """An award that confers an honour (评先推模) adds it to the member, once; the history entry says
    which award at which activity it came from, and member.updated tells the other services."""
    data = _AWARD_GRANTED.load(event.data)
    honour = data["honour"]
    if honour not in domain.HONOURS or not ObjectId.is_valid(data["member_id"]):
        return  # no honour, or one this service does not know: nothing to add

    def attempt():
        member = Member.objects(pk=ObjectId(data["member_id"])).first()
        if member is None or honour in (member.honours or []):
            return True  # unknown here, or already held (a replay, or granted twice)
        entry = HistoryEntry(at=utcnow(), action="honour", by="gonghui.events", from_status=member.status,
                             to_status=member.status, org_id=member.org_id, changed=["honours"],
                             reason=f"{data['award']} · {data['activity_title']} "
                                    f"(activity {data['activity_id']}, award {data['award_id']})"[:500])
        events = [(MEMBER_UPDATED, lambda m: member_updated(m, ["honours"]))]
        return versioned.write(member, events, sets={"honours": sorted({*member.honours, honour})},
                               push__history=entry) or None

    versioned.retried(attempt, "member")


HANDLERS = {"gonghui.events.attendance.recorded": on_attendance,
            "gonghui.events.award.granted": on_award_granted}
