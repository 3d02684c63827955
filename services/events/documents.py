"""The Documents the events service owns, in its own database."""
from __future__ import annotations

from mongoengine import BooleanField, Document, IntField, ListField, StringField

ALIAS = "events"


class MemberView(Document):
    """events's own read model of a member, for eligibility for activities and the workers' congress."""

    id = StringField(primary_key=True)
    org_path = ListField(StringField())
    status = StringField()
    gender = StringField()
    employment_type = StringField()
    kept = BooleanField()
    honours = ListField(StringField())  # activities may be open to honoured members only
    version = IntField()

    meta = {"db_alias": ALIAS, "collection": "member_views", "indexes": ["org_path"]}


ALL = [MemberView]
