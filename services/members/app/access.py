"""Who may see what, by the current tree: copies of organisation paths on stored objects may lag
behind a move (the worker brings them up to date), so every check resolves a copy's current path."""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

from bson import ObjectId

from shared.errors import Conflict, NotFound, Refused, in_state, refuse_unless  # noqa: F401 (the use cases' names)
from shared.iterables import chunked
from shared.scope import get_visible, require_role

from .. import domain
from ..documents import Member, Organisation
from .context import Context


def sees(ctx: Context, path) -> bool:
    """True when the caller's organisation is on the current path of this copy."""
    if ctx.who.has("operator"):
        return True
    return ctx.who.org is not None and ctx.tree.within(path, ctx.who.org)


def within(ctx: Context, org_id: str, *paths_of: Callable) -> Callable[[list], list]:
    """For a list page: keep the rows at least one of whose paths is, in the current tree, below
    ``org_id`` (rows whose copy is stale may have left the subtree)."""
    def keep(rows: Iterable) -> list:
        rows = list(rows)
        ctx.tree.prefetch(path_of(row) for row in rows for path_of in paths_of)
        return [row for row in rows if any(ctx.tree.within(path_of(row), org_id) for path_of in paths_of)]
    return keep


def stream_within(ctx: Context, org_id: str, path_of: Callable, rows: Iterable, chunk: int = 1000) -> Iterator:
    """``within`` for a stream of rows too many to hold at once (a report over a subtree)."""
    keep = within(ctx, org_id, path_of)
    for batch in chunked(rows, chunk):
        yield from keep(batch)


def visible_member(ctx: Context) -> Callable[[Member], bool]:
    def visible(member: Member) -> bool:
        if ctx.who.acts_as_member(str(member.pk)):
            return True
        return (ctx.who.has("operator") or ctx.who.has("admin")) and sees(ctx, member.org_path)
    return visible


def visible_org(ctx: Context) -> Callable[[Organisation], bool]:
    """Visibility by the current tree; the organisation's ``path`` is brought up to date in memory."""
    def visible(org: Organisation) -> bool:
        org.path = ctx.tree.current(org.path) or list(org.path)
        if ctx.who.has("operator") or ctx.who.has("admin"):
            return ctx.who.can_see(org.path)
        return str(org.pk) == ctx.who.org  # a member sees its own organisation
    return visible


def member(ctx: Context, member_id: str) -> Member:
    """A member the caller may read (staff of its branch or above, or the member itself)."""
    return get_visible(Member, member_id, visible_member(ctx), "member")


def staff_member(ctx: Context, member_id: str) -> Member:
    require_role(ctx.who, "operator", "admin")
    return member(ctx, member_id)


def org(ctx: Context, org_id: str, what: str = "organisation") -> Organisation:
    return get_visible(Organisation, org_id, visible_org(ctx), what)


def staff_org(ctx: Context, org_id: str, what: str = "organisation") -> Organisation:
    require_role(ctx.who, "operator", "admin")
    return org(ctx, org_id, what)


def subtree_root(ctx: Context, org_id: str | None) -> Organisation:
    """The organisation a staff query covers: the one asked for, or the caller's own."""
    require_role(ctx.who, "operator", "admin")
    org_id = org_id or ctx.who.org
    if org_id is None:
        raise Refused.on("org_id", "org_id is required for operators", "Missing data for required field.")
    return org(ctx, org_id)


def members_in_scope(ctx: Context, member_ids: list[str]) -> dict[str, Member]:
    """The members among ``member_ids`` the caller may see, by id (the others are simply absent)."""
    visible = visible_member(ctx)
    wanted = [ObjectId(i) for i in dict.fromkeys(member_ids) if ObjectId.is_valid(i)]
    return {str(m.pk): m for m in Member.objects(pk__in=wanted) if visible(m)}


def holding_org(ctx: Context, org_id: str) -> Organisation:
    """The organisation a member is registered in: visible to the caller and able to hold members."""
    found = ctx.tree.organisation(org_id)
    if found is None or not visible_org(ctx)(found):
        raise NotFound("organisation not found", {"org_id": ["No such organisation."]})
    refuse_unless(domain.check_can_hold_members, found.kind, found.status)
    return found
