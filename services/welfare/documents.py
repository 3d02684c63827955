"""The Documents the welfare service owns, in its own database."""
from __future__ import annotations

from mongoengine import BooleanField, Document, IntField, ListField, StringField

ALIAS = "welfare"


class MemberView(Document):
    """welfare's own read model of a member, for eligibility for assistance (active members only)."""

    id = StringField(primary_key=True)
    org_path = ListField(StringField())
    status = StringField()
    gender = StringField()
    employment_type = StringField()
    kept = BooleanField()
    version = IntField()

    meta = {"db_alias": ALIAS, "collection": "member_views", "indexes": ["org_path"]}


ALL = [MemberView]
