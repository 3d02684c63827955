"""Life-event payments (marriage, childbirth, hospitalisation, retirement, bereavement): the amount of the
schedule in force for the member's branch (``policies``), paid from the branch's condolences budget
through the ledger, once per member and event.

Once: the ledger entry's key is the event's (``life:<member>:<kind>:<day>``), so of two racing payments
one spends and the other finds the entry written; the payment document's key is unique as well, and a
payment whose entry was written by a process that died before the document is completed by the next try."""
from __future__ import annotations

from datetime import date

from bson import ObjectId

from shared import versioned
from shared.errors import Refused, in_state, refuse_unless
from shared.events.envelope import utcnow

from ..documents import Budget, LifeEventPayment
from ..domain import condolences
from ..published.condolences import LIFE_EVENT_PAID, life_event_paid
from . import access, ledger, policies
from .context import Context, Found


def pay(ctx: Context, member_id: str, kind: str, occurred_on: date, note: str | None) -> LifeEventPayment:
    access.require_staff(ctx)
    member = access.member(ctx, member_id)
    refuse_unless(condolences.check_beneficiary, member.status)
    path = list(member.org_path)
    if not path:
        raise in_state("member_id", "the member belongs to no organisation")
    refuse_unless(condolences.check_occurred, occurred_on, utcnow().date())
    key = condolences.life_event_key(str(member.pk), kind, occurred_on)
    if LifeEventPayment.objects(key=key).count():
        raise in_state("kind", f"the member was already paid for this {kind}", "Paid.")
    schedule, _ = policies.life_event_schedule(path)
    amount = refuse_unless(condolences.check_life_event_amount, kind, schedule)
    now = utcnow()
    budget = Budget.objects(org_id=path[-1], year=now.year, category=condolences.BUDGET_CATEGORY).first()
    if budget is None:
        raise Refused.on("kind", f"the branch has no condolences budget for {now.year}", "No budget.")
    entry, _ = ledger.record(budget, "disbursement", amount, f"life:{key}", ctx.who.sub, committed=False,
                             note=f"{kind} {occurred_on.isoformat()}")
    payment = LifeEventPayment(id=ObjectId(), key=key, member_id=str(member.pk), org_id=path[-1], org_path=path,
                               kind=kind, occurred_on=occurred_on, amount_fen=entry.amount_fen, entry_id=entry.pk,
                               note=note, paid_by=ctx.who.sub, paid_at=now)
    payment.record(LIFE_EVENT_PAID, life_event_paid(payment))
    return versioned.insert(payment, lambda: in_state("kind", f"the member was already paid for this {kind}",
                                                      "Paid."))


def read(ctx: Context, payment_id: str) -> LifeEventPayment:
    return access.own_or_in_scope(ctx, LifeEventPayment, payment_id, "payment")


def listing(ctx: Context, member_id: str | None, kind: str | None) -> Found:
    """Staff: payments of their organisation and below; a member: its own."""
    rows = access.own_or_subtree(ctx, LifeEventPayment)
    if member_id and access.is_staff(ctx):
        rows = rows.filter(member_id=member_id)
    return Found(rows.filter(kind=kind) if kind else rows, None)
