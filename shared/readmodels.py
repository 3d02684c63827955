"""Read models of members and organisations that a service keeps from gonghui.members.v1 to decide
eligibility and scope without calling the members service: the Document fields, the consumer's own
minimal schemas of the events, and the handlers. Each service subclasses the Documents with its own
database alias (and any field it needs more)."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields
from mongoengine import BooleanField, Document, IntField, ListField, StringField

from .events.consumer import Batched
from .events.envelope import CloudEvent
from .events.projection import rewrite_paths, upsert_if_newer, upsert_many_if_newer

MEMBER_EVENTS = ("applied", "application_rejected", "joined", "updated", "status_changed", "left")
ORGANISATION_EVENTS = ("created", "updated", "moved", "closed")


class MemberViewBase(Document):
    """A member, for eligibility; subclasses set ``meta`` (alias, collection ``member_views``)."""

    id = StringField(primary_key=True)
    org_path = ListField(StringField())
    status = StringField()
    gender = StringField()
    employment_type = StringField()
    kept = BooleanField()
    version = IntField()

    meta = {"abstract": True}


class OrgViewBase(Document):
    """An organisation: its current path (scope) and status (a closed one acts for nobody)."""

    id = StringField(primary_key=True)
    name = StringField()
    kind = StringField()
    path = ListField(StringField())
    status = StringField()
    version = IntField()

    meta = {"abstract": True}


class MemberChanged(Schema):
    class Meta:
        unknown = EXCLUDE

    member_id = fields.String(required=True)
    org_path = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    gender = fields.String(required=True)
    employment_type = fields.String(required=True)
    kept = fields.Boolean(load_default=False)
    version = fields.Integer(required=True)


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


def member_handlers(view: type[Document], schema: Schema | None = None) -> dict:
    """Handlers of the member events keeping ``view`` (newest version wins, a poll in one bulk write)."""
    schema = schema or MemberChanged()

    def fields_of(event: CloudEvent) -> tuple[str, int, dict]:
        data = schema.load(event.data)
        return data.pop("member_id"), data.pop("version"), data

    handler = Batched(one=lambda event: upsert_if_newer(view, *fields_of(event)),
                      many=lambda events: upsert_many_if_newer(view, [fields_of(e) for e in events]))
    return {f"gonghui.members.member.{name}": handler for name in MEMBER_EVENTS}


def organisation_handlers(view: type[Document], path_copies: list[tuple[type[Document], str]]) -> dict:
    """Handlers of the organisation events keeping ``view``; after a move, every copy of the old path
    in ``path_copies`` ((Document, field) pairs) is rewritten."""
    schema = OrganisationChanged()

    def on_organisation_changed(event: CloudEvent) -> None:
        data = schema.load(event.data)
        old_path = data.pop("old_path")
        upsert_if_newer(view, data.pop("org_id"), data.pop("version"), data)
        if old_path:
            for document, field in path_copies:
                rewrite_paths(document, field, old_path, data["path"])

    return {f"gonghui.members.organisation.{name}": on_organisation_changed for name in ORGANISATION_EVENTS}
