"""Events the welfare service consumes, each read through its own minimal schema (``shared.readmodels``):
the members and organisations its eligibility and scope are decided from."""
from __future__ import annotations

from shared import readmodels
from shared.readmodels import MemberChanged, OrganisationChanged  # noqa: F401 (its schemas of the events)

from .documents import PATH_COPIES, MemberView, OrgView

MEMBERS_TOPIC = "gonghui.members.v1"

HANDLERS = {**readmodels.member_handlers(MemberView, MemberChanged()),
            **readmodels.organisation_handlers(OrgView, PATH_COPIES)}
