"""Dues (会费): wage bases and the dues assessed on them, payments (in bulk, as payroll deductions
arrive), a member's arrears, and a subtree's monthly report."""
from __future__ import annotations

from typing import Callable

from bson import ObjectId

from shared import versioned
from shared.db import is_duplicate_key
from shared.events.envelope import utcnow
from shared.scope import require_role

from .. import domain
from ..documents import DuesAccount, Member, Payment
from ..published import DUES_ASSESSED, DUES_PAID, dues_data
from . import access
from .context import Context


def assess_month(ctx: Context, month: str, items: list[dict]) -> dict:
    """Record wage bases (``{"member_id", "wage_fen"}``) for a month and assess dues, member by member
    (staff); only active members owe dues. Idempotent."""
    def apply(member: Member, item: dict) -> DuesAccount:
        if member.status != "active":
            raise domain.DomainError("member_id", f"a member whose status is {member.status} owes no dues")
        return assess(ctx, member, month, item["wage_fen"])
    return _batch(ctx, month, items, apply)


def pay_month(ctx: Context, month: str, items: list[dict]) -> dict:
    """Record payments (``{"member_id", "amount_fen", "reference"}``) for a month (staff). A payment
    whose reference (by default ``payroll-<month>``) was already recorded is ignored."""
    return _batch(ctx, month, items, lambda member, item: pay(member, month, item["amount_fen"],
                                                              item.get("reference") or f"payroll-{month}"))


def assess(ctx: Context, member: Member, month: str, wage_fen: int) -> DuesAccount:
    """Upsert the month's assessment; re-assessing with a new wage updates it."""
    exempt = bool(member.kept_reason)
    dues = 0 if exempt else domain.monthly_dues(wage_fen)
    account_id = f"{member.pk}:{month}"

    def attempt() -> DuesAccount | None:
        account = DuesAccount.objects(pk=account_id).first()
        if account is None:
            account = DuesAccount(id=account_id, member_id=str(member.pk), org_id=member.org_id,
                                  org_path=ctx.tree.current(member.org_path) or [], month=month, wage_fen=wage_fen,
                                  dues_fen=dues, exempt=exempt, assessed_at=utcnow())
            account.record(DUES_ASSESSED, dues_data(account))
            try:
                account.save(force_insert=True)
                return account
            except Exception as exc:
                if not is_duplicate_key(exc):
                    raise
                return None  # a concurrent first assessment won; update it instead
        if (account.wage_fen, account.dues_fen, account.exempt) == (wage_fen, dues, exempt):
            return account  # the same assessment again: nothing changes
        sets = {"wage_fen": wage_fen, "dues_fen": dues, "exempt": exempt, "assessed_at": utcnow()}
        return account if versioned.write(account, [(DUES_ASSESSED, dues_data)], sets=sets) else None

    return versioned.retried(attempt, "dues account")


def pay(member: Member, month: str, amount_fen: int, reference: str) -> DuesAccount:
    """Add a payment to the month's account (assessed before); a reference already recorded there is
    a replayed payment and changes nothing."""
    account_id = f"{member.pk}:{month}"

    def attempt() -> DuesAccount | None:
        account = DuesAccount.objects(pk=account_id).first()
        if account is None:
            raise domain.DomainError("month", f"no dues are assessed for {month} yet")
        if any(p.reference == reference for p in account.payments):
            return account  # the same payment again (a replayed payroll file): no second effect
        payment = Payment(reference=reference, amount_fen=amount_fen, paid_at=utcnow())
        paid_before = account.paid_fen
        account.paid_fen += amount_fen  # as the event tells it
        if versioned.write(account, [(DUES_PAID, dues_data)], push__payments=payment, inc__paid_fen=amount_fen):
            return account
        account.paid_fen = paid_before
        return None

    return versioned.retried(attempt, "dues account")


def _batch(ctx: Context, month: str, items: list[dict], apply: Callable[[Member, dict], DuesAccount]) -> dict:
    """Apply each item to its member; an item whose member is out of sight, or that a rule refuses,
    fails alone, with its reason."""
    require_role(ctx.who, "operator", "admin")
    members = access.members_in_scope(ctx, [i["member_id"] for i in items])
    results = []
    for item in items:
        member = members.get(_id_key(item["member_id"]))
        if member is None:
            results.append({"member_id": item["member_id"], "ok": False, "error": "member not found"})
            continue
        try:
            account = apply(member, item)
        except domain.DomainError as exc:
            results.append({"member_id": item["member_id"], "ok": False, "error": exc.message})
            continue
        results.append({"member_id": item["member_id"], "ok": True, "dues_fen": account.dues_fen,
                        "paid_fen": account.paid_fen})
    succeeded = sum(r["ok"] for r in results)
    return {"month": month, "succeeded": succeeded, "failed": len(results) - succeeded, "items": results}


def _id_key(member_id: str) -> str:
    """An id as ``members_in_scope`` keys it (ObjectId's spelling: lower-case hex)."""
    return str(ObjectId(member_id)) if ObjectId.is_valid(member_id) else member_id


def member_dues(ctx: Context, member_id: str) -> dict:
    """A member's dues month by month, and its arrears (the member may read its own)."""
    member = access.member(ctx, member_id)
    accounts = sorted(DuesAccount.objects(member_id=str(member.pk)), key=lambda a: a.month)
    months = [{"month": a.month, "dues_fen": a.dues_fen, "paid_fen": a.paid_fen,
               "outstanding_fen": max(a.dues_fen - a.paid_fen, 0), "exempt": a.exempt} for a in accounts]
    owing = [m for m in months if m["outstanding_fen"] > 0]
    return {"member_id": str(member.pk), "months": months, "arrears_fen": sum(m["outstanding_fen"] for m in owing),
            "months_in_arrears": [m["month"] for m in owing]}


def report(ctx: Context, org_id: str | None, month: str) -> dict:
    """A subtree's dues for a month (the caller's own by default): expected, paid, outstanding."""
    org = access.subtree_root(ctx, org_id)
    accounts = DuesAccount._get_collection().find(
        {"org_path": str(org.pk), "month": month}, {"dues_fen": 1, "paid_fen": 1, "exempt": 1, "org_path": 1})
    totals = {"org_id": str(org.pk), "month": month, "members_assessed": 0, "exempt": 0, "expected_fen": 0,
              "paid_fen": 0, "outstanding_fen": 0, "members_paid_in_full": 0, "members_outstanding": 0}
    # copies of paths may lag behind a move: count what the current tree puts in the subtree
    for raw in access.stream_within(ctx, str(org.pk), lambda raw: raw["org_path"], accounts):
        outstanding = max(raw["dues_fen"] - raw.get("paid_fen", 0), 0)
        totals["members_assessed"] += 1
        totals["exempt"] += bool(raw.get("exempt"))
        totals["expected_fen"] += raw["dues_fen"]
        totals["paid_fen"] += raw.get("paid_fen", 0)
        totals["outstanding_fen"] += outstanding
        totals["members_outstanding" if outstanding else "members_paid_in_full"] += 1
    return totals
