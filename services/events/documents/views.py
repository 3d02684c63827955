"""events's own read models of members and organisations, kept from gonghui.members.v1: eligibility
and scope are decided from them, never by a call to the members service."""
from __future__ import annotations

from mongoengine import ListField, StringField

from shared.readmodels import MemberViewBase, OrgViewBase

ALIAS = "events"


class MemberView(MemberViewBase):
    """A member, for eligibility for activities and the workers' congress."""

    honours = ListField(StringField())  # activities may be open to honoured members only

    meta = {"db_alias": ALIAS, "collection": "member_views", "indexes": ["org_path"]}


class OrgView(OrgViewBase):
    meta = {"db_alias": ALIAS, "collection": "org_views", "indexes": ["path"]}
