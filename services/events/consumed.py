"""Events the events service consumes, each read through its own minimal schema."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields

from shared.events.consumer import Batched
from shared.events.envelope import CloudEvent
from shared.events.projection import rewrite_paths, upsert_if_newer, upsert_many_if_newer

from .documents import PATH_COPIES, MemberView, OrgView

MEMBERS_TOPIC = "gonghui.members.v1"


class MemberChanged(Schema):
    class Meta:
        unknown = EXCLUDE

    member_id = fields.String(required=True)
    org_path = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    gender = fields.String(required=True)
    employment_type = fields.String(required=True)
    kept = fields.Boolean(load_default=False)
    honours = fields.List(fields.String(), load_default=list)
    version = fields.Integer(required=True)


_MEMBER_CHANGED = MemberChanged()  # built once, not per event


class OrganisationChanged(Schema):
    class Meta:
        unknown = EXCLUDE

    org_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    path = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    old_path = fields.List(fields.String(), load_default=None)  # organisation.moved only


_ORGANISATION_CHANGED = OrganisationChanged()  # built once, not per event


def _member_view(event: CloudEvent) -> tuple[str, int, dict]:
    data = _MEMBER_CHANGED.load(event.data)
    return data.pop("member_id"), data.pop("version"), data


on_member_changed = Batched(
    one=lambda event: upsert_if_newer(MemberView, *_member_view(event)),
    many=lambda events: upsert_many_if_newer(MemberView, [_member_view(e) for e in events]))


def on_organisation_changed(event: CloudEvent) -> None:
    """Keep the organisation's view; after a move, rewrite every copy of the old path below it."""
    data = _ORGANISATION_CHANGED.load(event.data)
    old_path = data.pop("old_path")
    upsert_if_newer(OrgView, data.pop("org_id"), data.pop("version"), data)
    if old_path:
        for document, field in PATH_COPIES:
            rewrite_paths(document, field, old_path, data["path"])


MEMBER_EVENTS = ("applied", "application_rejected", "joined", "updated", "status_changed", "left")
HANDLERS = {**{f"gonghui.members.member.{name}": on_member_changed for name in MEMBER_EVENTS},
            **{f"gonghui.members.organisation.{name}": on_organisation_changed
               for name in ("created", "updated", "moved", "closed")}}
