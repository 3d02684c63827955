"""events's own read models of members and organisations, kept from gonghui.members.v1: eligibility
and scope are decided from them, never by a call to the members service."""
from __future__ import annotations

from mongoengine import BooleanField, Document, IntField, ListField, StringField

ALIAS = "events"


class MemberView(Document):
    """A member, for eligibility for activities and the workers' congress."""

    id = StringField(primary_key=True)
    org_path = ListField(StringField())
    status = StringField()
    gender = StringField()
    employment_type = StringField()
    kept = BooleanField()
    honours = ListField(StringField())  # activities may be open to honoured members only
    version = IntField()

    meta = {"db_alias": ALIAS, "collection": "member_views", "indexes": ["org_path"]}


class OrgView(Document):
    """An organisation: its current path (for scope) and status (a closed one organises nothing)."""

    id = StringField(primary_key=True)
    name = StringField()
    kind = StringField()
    path = ListField(StringField())
    status = StringField()
    version = IntField()

    meta = {"db_alias": ALIAS, "collection": "org_views", "indexes": ["path"]}
