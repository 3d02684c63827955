"""welfare's own read models of members and organisations, kept from gonghui.members.v1: eligibility
(active members only) and scope are decided from them, never by a call to the members service."""
from __future__ import annotations

from shared.readmodels import MemberViewBase, OrgViewBase

ALIAS = "welfare"


class MemberView(MemberViewBase):
    """A member, for eligibility for assistance and the hardship registry."""

    meta = {"db_alias": ALIAS, "collection": "member_views", "indexes": ["org_path"]}


class OrgView(OrgViewBase):
    meta = {"db_alias": ALIAS, "collection": "org_views", "indexes": ["path"]}
