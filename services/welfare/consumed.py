"""Events the welfare service consumes, each read through its own minimal schema (``shared.readmodels``)."""
from __future__ import annotations

from shared import readmodels

from .documents import PATH_COPIES, MemberView, OrgView

MEMBERS_TOPIC = "gonghui.members.v1"

HANDLERS = {**readmodels.member_handlers(MemberView), **readmodels.organisation_handlers(OrgView, PATH_COPIES)}
