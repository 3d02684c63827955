"""Events the members service consumes, each read through its own minimal schema."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields

from shared.events.envelope import CloudEvent

from . import domain
from .documents import Participation

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


HANDLERS = {"gonghui.events.attendance.recorded": on_attendance}
