"""Transfers between unions (会员关系转接): a member's branch (or the member itself) asks, the
receiving union accepts (the member moves, dues and history continue) or declines; a request nobody
answers in time expires."""
from __future__ import annotations

from typing import Callable

from bson import ObjectId

from shared import versioned
from shared.errors import Conflict, Forbidden, NotFound
from shared.events.envelope import utcnow
from shared.scope import get_visible, require_role

from .. import domain, transfers
from ..documents import Member, Organisation, Transfer
from ..published import TRANSFER_ACCEPTED, TRANSFER_DECLINED, TRANSFER_REQUESTED, transfer_data
from . import access
from .context import Context, Found


def visible_transfer(ctx: Context) -> Callable[[Transfer], bool]:
    """The member itself, or staff of either side."""
    def visible(t: Transfer) -> bool:
        if ctx.who.acts_as_member(t.member_id):
            return True
        return ((ctx.who.has("admin") or ctx.who.has("operator"))
                and (access.sees(ctx, t.from_org_path) or access.sees(ctx, t.to_org_path)))
    return visible


def request(ctx: Context, member_id: str, to_org_id: str, reason: str | None) -> Transfer:
    """Ask for a member to move to another union of the same federation: the member's current branch
    (or above), or the member itself. One open request per member."""
    member = access.member(ctx, member_id)
    to_org = Organisation.objects(pk=ObjectId(to_org_id) if ObjectId.is_valid(to_org_id) else None).first()
    member_path = ctx.tree.current(member.org_path) or []
    to_path = ctx.tree.current(to_org.path if to_org else []) or []
    if to_org is None or not to_path or not member_path or to_path[0] != member_path[0]:
        # another federation's organisation is as unknown as a missing one: nothing about it is told
        raise NotFound("organisation not found", {"to_org_id": ["No such organisation."]})
    access.refuse_unless(domain.check_can_hold_members, to_org.kind, to_org.status)
    access.refuse_unless(domain.check_request, member.status, member.org_id, str(to_org.pk), member.open_transfer_id)
    now = utcnow()
    transfer = Transfer(id=ObjectId(), member_id=str(member.pk), member_name=member.name,
                        from_org_id=member.org_id, from_org_path=member_path, to_org_id=str(to_org.pk),
                        to_org_path=to_path, requested_by=ctx.who.sub, requested_at=now,
                        expires_at=domain.expires_at(now, ctx.settings.transfer_expiry_days), reason=reason)
    # Claim the member first (atomic), so two requests cannot both be open.
    if not Member.objects(pk=member.pk, open_transfer_id=None).update_one(set__open_transfer_id=str(transfer.pk)):
        raise access.in_state("member_id", "another transfer is already waiting for an answer", "Busy.")
    transfer.record(TRANSFER_REQUESTED, transfer_data(transfer))
    try:
        transfer.save(force_insert=True)
    except Exception:
        transfers.release_claim(transfer)
        raise
    return transfer


def listing(ctx: Context, direction: str, status: str | None) -> Found:
    """Transfers into (``incoming``) or out of (``outgoing``) the caller's organisation and below; an
    operator bound to no organisation sees every transfer (staff)."""
    require_role(ctx.who, "admin", "operator")
    if ctx.who.org is None:
        rows = Transfer.objects
    else:
        rows = Transfer.objects(**{"to_org_path" if direction == "incoming" else "from_org_path": ctx.who.org})
    if status:
        rows = rows.filter(status=status)
    if ctx.who.org is None:
        return Found(rows, None)
    side_path = (lambda t: t.to_org_path) if direction == "incoming" else (lambda t: t.from_org_path)
    return Found(rows, access.within(ctx, ctx.who.org, side_path))


def read(ctx: Context, transfer_id: str) -> Transfer:
    """Either side's staff, or the member, may read a transfer."""
    return get_visible(Transfer, transfer_id, visible_transfer(ctx), "transfer")


def accept(ctx: Context, transfer_id: str) -> Transfer:
    """The member joins the receiving union (now, or by the worker if this request stops half way)."""
    transfer = _decide(ctx, _receiving(ctx, transfer_id), "accepted", TRANSFER_ACCEPTED)
    transfers.complete(transfer, ctx.who.sub)
    transfer.reload()
    return transfer


def decline(ctx: Context, transfer_id: str, reason: str) -> Transfer:
    """Decline with a reason; the member stays where it was."""
    transfer = _decide(ctx, _receiving(ctx, transfer_id), "declined", TRANSFER_DECLINED, reason)
    transfers.release_claim(transfer)
    return transfer


def _receiving(ctx: Context, transfer_id: str) -> Transfer:
    """A transfer the caller may answer: staff of the receiving side."""
    require_role(ctx.who, "operator", "admin")
    transfer = read(ctx, transfer_id)
    if not access.sees(ctx, transfer.to_org_path):
        raise Forbidden("only the receiving union answers a transfer request")
    return transfer


def _decide(ctx: Context, transfer: Transfer, status: str, event_type, reason: str | None = None) -> Transfer:
    now = utcnow()
    try:
        domain.check_decision(transfer.status, transfer.expires_at, now)
    except domain.DomainError as exc:
        if transfer.status == "requested":
            transfers.expire_due(now)  # it lapsed: say so, and record it
        raise access.in_state(exc.field, exc.message) from exc
    sets = {"status": status, "decided_at": now, "decided_by": ctx.who.sub, "decision_reason": reason}
    if not versioned.write(transfer, [(event_type, transfer_data)], conditions={"status": "requested"}, sets=sets):
        raise Conflict("the transfer was answered meanwhile")
    return transfer
