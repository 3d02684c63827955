"""Scope for a service that knows the tree from its read models (``shared.readmodels``): who the caller
is, which organisations lie below it, and the objects it may act on. Paths copied onto stored objects are
rewritten by the service's worker when a subtree moves. Anything missing or out of scope is 404."""
from __future__ import annotations

from dataclasses import dataclass, field

from bson import ObjectId

from .auth import Caller
from .config import Settings
from .errors import Forbidden, NotFound, Unauthenticated
from .pagination import Found
from .scope import require_role

__all__ = ["ReadScopeContext", "Found", "acting_member", "check_caller", "is_staff", "me", "member", "object_id",
           "org_path", "own_or_in_scope", "own_or_subtree", "own_path", "require_staff", "sees", "staff_org"]


@dataclass
class ReadScopeContext:
    """What a use case receives besides its input: the caller, the settings, the service's read models
    (``org_view``, ``member_view`` Document classes) and what this request has read of them."""
    who: Caller
    settings: Settings
    org_view: type
    member_view: type
    request_id: str | None = None
    paths: dict[str, list[str] | None] = field(default_factory=dict)  # organisation paths read so far
    cache: dict = field(default_factory=dict)  # what one request reads more than once


def check_caller(ctx: ReadScopeContext) -> None:
    refuse_closed_org(ctx.who, ctx.org_view)


def refuse_closed_org(who, org_view) -> None:
    """A token bound to an organisation that has been closed acts for nobody."""
    if who.org is not None:
        view = org_view.objects(pk=who.org).only("status").first()
        if view is not None and view.status != "active":
            raise Unauthenticated("the organisation this token is bound to is closed")


def is_staff(ctx: ReadScopeContext) -> bool:
    return ctx.who.has("admin") or ctx.who.has("operator")


def require_staff(ctx: ReadScopeContext) -> None:
    require_role(ctx.who, "operator", "admin")


def sees(ctx: ReadScopeContext, path) -> bool:
    """Staff see what lies at or below their organisation; an operator bound to none sees everything."""
    if ctx.who.has("operator") and ctx.who.org is None:
        return True
    return is_staff(ctx) and ctx.who.org is not None and ctx.who.org in (path or ())


def org_path(ctx: ReadScopeContext, org_id: str) -> list[str] | None:
    """The current path of an organisation, read once per context (None: unknown here)."""
    if org_id not in ctx.paths:
        view = ctx.org_view.objects(pk=org_id).only("path").first()
        ctx.paths[org_id] = list(view.path) if view else None
    return ctx.paths[org_id]


def own_path(ctx: ReadScopeContext) -> list[str]:
    """The path of the caller's own organisation (empty when unknown or bound to none)."""
    return org_path(ctx, ctx.who.org) or [] if ctx.who.org else []


def staff_org(ctx: ReadScopeContext, org_id: str, field: str = "org_id"):
    """An active organisation at or below the caller's: staff act for it."""
    require_staff(ctx)
    view = ctx.org_view.objects(pk=org_id).first()
    if view is None or not sees(ctx, view.path):
        raise NotFound("organisation not found", {field: ["No such organisation."]})
    if view.status != "active":
        raise NotFound("organisation not found", {field: ["The organisation is closed."]})
    return view


def me(ctx: ReadScopeContext):
    """The caller's own member view (a member token), read once per context."""
    if not ctx.who.has("member"):
        return None
    if "me" not in ctx.cache:
        ctx.cache["me"] = ctx.member_view.objects(pk=ctx.who.sub).first()
    return ctx.cache["me"]


def member(ctx: ReadScopeContext, member_id: str, field: str = "member_id"):
    """A member the caller may act for: the member itself, or staff of its branch or above."""
    view = me(ctx) if ctx.who.acts_as_member(member_id) else ctx.member_view.objects(pk=member_id).first()
    if view is None or not (ctx.who.acts_as_member(member_id) or sees(ctx, view.org_path)):
        raise NotFound("member not found", {field: ["No such member."]})
    return view


def acting_member(ctx: ReadScopeContext, member_id: str | None):
    """The member a request is for: the caller itself (member token) or one of staff's scope."""
    if member_id is None:
        if not ctx.who.has("member"):
            raise NotFound("member not found", {"member_id": ["Staff name the member."]})
        member_id = ctx.who.sub
    elif not ctx.who.acts_as_member(member_id) and not is_staff(ctx):
        raise Forbidden("a member acts only for itself")
    return member(ctx, member_id)


def object_id(value: str, what: str) -> ObjectId:
    if not ObjectId.is_valid(value):
        raise NotFound(f"{what} not found")
    return ObjectId(value)


def own_or_in_scope(ctx: ReadScopeContext, document, value: str, what: str):
    """A member's object (one with ``member_id`` and a copy of its ``org_path``), for the member itself or
    staff at or above its organisation."""
    found = document.objects(pk=object_id(value, what)).first()
    if found is None or not (ctx.who.acts_as_member(found.member_id) or sees(ctx, found.org_path)):
        raise NotFound(f"{what} not found")
    return found


def own_or_subtree(ctx: ReadScopeContext, document):
    """The members' objects a caller lists: staff, those at or below their organisation (every one for an
    operator bound to none); a member, its own."""
    if is_staff(ctx):
        return document.objects if ctx.who.org is None else document.objects(org_path=ctx.who.org)
    return document.objects(member_id=ctx.who.sub) if ctx.who.has("member") else document.objects(pk=None)
