"""The union tree: creating organisations, changing them, moving a subtree, closing, and appointing
cadres (工会干部)."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timezone

from bson import ObjectId

from shared import versioned
from shared.db import is_duplicate_key
from shared.errors import Conflict, Forbidden, NotFound, Refused
from shared.events.envelope import utcnow
from shared.scope import require_role

from .. import domain, tree
from ..documents import Cadre, Member, Organisation, OrgMove
from ..published import (
    ORGANISATION_CLOSED,
    ORGANISATION_CREATED,
    ORGANISATION_MOVED,
    ORGANISATION_UPDATED,
    organisation_closed,
    organisation_created,
    organisation_moved,
    organisation_updated,
)
from . import access
from .context import Context, Found

EMPLOYER_TAKEN = "another union organisation is already registered for this employer"


def create(ctx: Context, name: str, kind: str, parent_id: str | None, credit_code: str | None,
           headcount: int | None) -> Organisation:
    """Create an organisation below a visible, active parent; root federations need the operator role."""
    require_role(ctx.who, "operator", "admin")
    parent = None
    if parent_id is not None:
        parent = access.org(ctx, parent_id, "parent organisation")
        if parent.status != "active":
            raise access.in_state("parent_id", "the parent organisation is closed", "Organisation is closed.")
    elif not ctx.who.has("operator"):
        raise Forbidden("only operators create root federations")
    credit_code = _credit_code(credit_code)
    access.refuse_unless(domain.check_placement, kind, parent.kind if parent else None)
    access.refuse_unless(domain.check_employer_details, kind, credit_code, headcount)
    org = Organisation(id=ObjectId(), name=name.strip(), kind=kind, parent_id=str(parent.pk) if parent else None,
                       credit_code=credit_code, headcount=headcount)
    org.path = domain.org_path(list(parent.path) if parent else None, str(org.pk))
    org.record(ORGANISATION_CREATED, organisation_created(org))
    return versioned.insert(org, _employer_taken)


def update(ctx: Context, org_id: str, changes: dict) -> Organisation:
    """Change the name, or a grassroots union's credit code or headcount."""
    org = access.staff_org(ctx, org_id)
    changes = {k: v for k, v in changes.items() if getattr(org, k) != v}
    if "credit_code" in changes:
        changes["credit_code"] = _credit_code(changes["credit_code"])
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    if not changes:
        return org
    if org.status != "active":
        raise access.in_state("status", "a closed organisation cannot change", "Organisation is closed.")
    if org.kind != "grassroots" and ({"credit_code", "headcount"} & set(changes)):
        field = "credit_code" if "credit_code" in changes else "headcount"
        raise Refused.on(field, f"only a grassroots union carries an employer's {field}", "Not allowed.")
    _change(org, ORGANISATION_UPDATED, lambda o: organisation_updated(o, list(changes)), **changes)
    if "name" in changes:
        tree.bump_tree_version()  # web processes' caches hold names (registrations' events carry them)
    return org


def move(ctx: Context, org_id: str, parent_id: str) -> Organisation:
    """Move an organisation and its whole subtree under another parent. Scope follows at once; the
    worker then updates the copies of paths below it (``tree.follow_moves``)."""
    org = access.staff_org(ctx, org_id)
    if str(org.pk) == ctx.who.org:
        raise Forbidden("an admin cannot move the organisation it is bound to")
    parent = access.org(ctx, parent_id, "parent organisation")
    if parent.status != "active" or org.status != "active":
        raise access.in_state("parent_id", "closed organisations cannot move", "Organisation is closed.")
    access.refuse_unless(domain.check_move, list(org.path), list(parent.path), org.kind, parent.kind)
    if org.parent_id == str(parent.pk):
        return org
    old_path, new_path = list(org.path), domain.org_path(list(parent.path), str(org.pk))
    started = tree.start_move(str(org.pk), old_path, new_path, ctx.who.sub)
    try:
        _change(org, ORGANISATION_MOVED, lambda o: organisation_moved(o, old_path),
                path=new_path, parent_id=str(parent.pk), move_id=str(started.pk))
    except Exception:
        started.delete()
        raise
    tree.bump_tree_version()
    return org


def close(ctx: Context, org_id: str) -> Organisation:
    """Close an organisation with no active members and no open organisations below; history stays.
    Kept memberships (保留会籍) move to the union above, as the constitution provides."""
    org = access.staff_org(ctx, org_id)
    if org.status == "closed":
        return org
    if str(org.pk) == ctx.who.org:
        raise Forbidden("an admin cannot close the organisation it is bound to; the union above closes it")
    if tree.moves_following_within(str(org.pk)):
        raise Conflict("a move into or out of this organisation's subtree is still being followed; "
                       "retry when it is done", code="move_in_progress")
    current = Member.objects(org_path=str(org.pk), status__in=["active", "suspended", "applicant"])
    # counting stops at 100: the answer only has to say that members remain, and roughly how many
    access.refuse_unless(domain.check_can_close, len(current.filter(kept_reason__exists=False).only("id").limit(100)))
    if Organisation.objects(path=str(org.pk), status="active", id__ne=org.pk).only("id").first():
        raise access.in_state("status", "organisations below are still open", "Close them first.")
    kept = list(current.filter(kept_reason__exists=True).only("id"))
    if kept:
        parent = Organisation.objects(pk=org.parent_id).first() if org.parent_id else None
        if parent is None:
            raise Refused.on("status", "kept memberships need a union above to move to", "No parent.")
        for member in kept:
            tree.move_member_to(member.pk, parent, ctx.who.sub, "kept_moved_up")
    _change(org, ORGANISATION_CLOSED, organisation_closed, status="closed", closed_at=utcnow())
    tree.bump_tree_version()
    return org


def children(ctx: Context, org_id: str):
    """The organisations directly below this one (a queryset, paged by the caller)."""
    org = access.staff_org(ctx, org_id)
    return Organisation.objects(parent_id=str(org.pk))


def subtree(ctx: Context, org_id: str, kind: str | None, status: str | None) -> Found:
    """This organisation and everything below it, by kind and status."""
    org = access.staff_org(ctx, org_id)
    rows = Organisation.objects(path=str(org.pk))
    for key, value in (("kind", kind), ("status", status)):
        if value:
            rows = rows.filter(**{key: value})
    return Found(rows, access.within(ctx, str(org.pk), lambda o: o.path))


def latest_move(org: Organisation) -> OrgMove | None:
    """The organisation's latest move, with the progress of the copies it is bringing up to date."""
    return OrgMove.objects(pk=org.move_id).first() if org.move_id else None


def cadres(ctx: Context, org_id: str, current_only: bool) -> list[Cadre]:
    """The organisation's cadres, by role then term; by default those whose term runs today."""
    org = access.org(ctx, org_id)
    today = datetime.combine(utcnow().date(), time(), tzinfo=timezone.utc)
    found = [c for c in org.cadres if not current_only or domain.is_current(c.term_start, c.term_end, today)]
    return sorted(found, key=lambda c: (domain.CADRE_ROLES.index(c.role), c.term_start))


def appoint(ctx: Context, org_id: str, name: str, role: str, member_id: str | None, term_start: date,
            term_end: date | None) -> Cadre:
    """Appoint a cadre for a term; a cadre who is a member must be a current member of this subtree."""
    org = access.staff_org(ctx, org_id)
    if org.status != "active":
        raise access.in_state("status", "a closed organisation cannot appoint cadres", "Organisation is closed.")
    if member_id is not None:
        _cadre_member(ctx, member_id, org)
    if term_end is not None and term_end < term_start:
        raise Refused.on("term_end", "the term ends before it starts", "Before term_start.")
    cadre = Cadre(id=uuid.uuid4().hex, name=name.strip(), role=role, member_id=member_id,
                  term_start=datetime.combine(term_start, time(), tzinfo=timezone.utc),
                  term_end=datetime.combine(term_end, time(), tzinfo=timezone.utc) if term_end else None)
    Organisation.objects(pk=org.pk).update_one(push__cadres=cadre, set__updated_at=utcnow())
    return cadre


def _cadre_member(ctx: Context, member_id: str, org: Organisation) -> None:
    member = Member.objects(pk=ObjectId(member_id) if ObjectId.is_valid(member_id) else None).only(
        "org_path", "status").first()
    if member is None or not access.within(ctx, str(org.pk), lambda m: m.org_path)([member]):
        raise NotFound("member not found in this organisation", {"member_id": ["No such member here."]})
    if member.status not in ("active", "suspended"):
        raise access.in_state("member_id", "only a current member can be appointed", "Not a current member.")


def _credit_code(value: str | None) -> str | None:
    return access.refuse_unless(domain.validate_credit_code, value) if value is not None else None


def _employer_taken() -> Conflict:
    return Conflict(EMPLOYER_TAKEN, {"credit_code": ["Already registered."]}, code="already_registered")


def _change(org: Organisation, event_type, build, **sets) -> Organisation:
    """Set ``sets`` with the event ``build(org)`` makes, in one write guarded by the version read."""
    try:
        written = versioned.write(org, [(event_type, build)], sets={**sets, "updated_at": utcnow()})
    except Exception as exc:
        if is_duplicate_key(exc):
            raise _employer_taken() from exc
        raise
    if not written:
        raise Conflict("the organisation changed meanwhile; read it again and retry")
    return org
