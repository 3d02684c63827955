"""Who may read which inbox: a member its own; staff (admin, operator) of the branch or above a
member's or an organisation's. Anything else is "not found"."""
from __future__ import annotations

from flask import current_app, g

from shared.errors import NotFound
from shared.readscope import refuse_closed_org
from shared.web import current_caller

from ..documents import OrgView, Recipient


def caller():
    """The request's caller, once per request; a token bound to a closed organisation is refused."""
    if "notify_caller" not in g:
        who = current_caller(current_app.extensions["gonghui.settings"])
        refuse_closed_org(who, OrgView)
        g.notify_caller = who
    return g.notify_caller


def is_staff(who) -> bool:
    return who.has("admin") or who.has("operator")


def staff_sees(who, path) -> bool:
    return is_staff(who) and who.can_see(list(path or ()))


def may_read_inbox(who, member_id: str, org_path: list[str]) -> bool:
    return who.acts_as_member(member_id) or staff_sees(who, org_path)


def readable_member(who, member_id: str | None) -> Recipient:
    """The member whose inbox is read: the caller itself when unnamed (a member token)."""
    if member_id is None:
        if not who.has("member"):
            raise NotFound("member not found", {"member_id": ["Staff name the member."]})
        member_id = who.sub
    recipient = Recipient.objects(pk=member_id).only("org_path").first()
    if recipient is None or not may_read_inbox(who, recipient.pk, recipient.org_path):
        raise NotFound("member not found", {"member_id": ["No such member."]})
    return recipient


def staff_org(who, org_id: str, field: str = "org_id") -> OrgView:
    """An organisation at or below the caller's (staff only)."""
    view = OrgView.objects(pk=org_id).first()
    if view is None or not staff_sees(who, view.path):
        raise NotFound("organisation not found", {field: ["No such organisation."]})
    if view.status != "active":
        raise NotFound("organisation not found", {field: ["The organisation is closed."]})
    return view
