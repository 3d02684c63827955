"""Events the events service consumes, each read through its own minimal schema."""
from __future__ import annotations

from marshmallow import fields

from shared import readmodels
from shared.readmodels import OrganisationChanged  # noqa: F401 (its schema of the organisation events)

from .documents import PATH_COPIES, MemberView, OrgView

MEMBERS_TOPIC = "gonghui.members.v1"


class MemberChanged(readmodels.MemberChanged):
    honours = fields.List(fields.String(), load_default=list)  # activities may be for honoured members


HANDLERS = {**readmodels.member_handlers(MemberView, MemberChanged()),
            **readmodels.organisation_handlers(OrgView, PATH_COPIES)}
