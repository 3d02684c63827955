"""The use cases' Context for this request, built once: the caller (refused when the organisation its
token is bound to has been closed), the settings and the service's read models."""
from __future__ import annotations

from flask import current_app, g

from shared.web import current_caller

from ..app import access
from ..app.context import Context
from ..documents import MemberView, OrgView


def context() -> Context:
    if "app_context" not in g:
        settings = current_app.extensions["gonghui.settings"]
        g.app_context = Context(who=current_caller(settings), settings=settings, org_view=OrgView,
                                member_view=MemberView, request_id=g.get("request_id"))
        access.check_caller(g.app_context)
    return g.app_context
