"""Events the welfare service consumes, each read through its own minimal schema."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields

from shared.events.envelope import CloudEvent
from shared.events.projection import upsert_if_newer

from .documents import MemberView

MEMBERS_TOPIC = "gonghui.members.v1"


class MemberChanged(Schema):
    class Meta:
        unknown = EXCLUDE

    member_id = fields.String(required=True)
    org_path = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    gender = fields.String(required=True)
    employment_type = fields.String(required=True)
    version = fields.Integer(required=True)


def on_member_changed(event: CloudEvent) -> None:
    data = MemberChanged().load(event.data)
    member_id, version = data.pop("member_id"), data.pop("version")
    upsert_if_newer(MemberView, member_id, version, data)


HANDLERS = {"gonghui.members.member.joined": on_member_changed}
