"""Assistance applications (帮扶申请): living subsidy, medical aid, education grant (金秋助学), emergency aid.

submitted (by the member, or by staff for a member of their scope) → reviewed (staff of the branch or
above) → approved (staff of the branch or above; of the level above the branch when the amount is over
the branch's limit) or rejected with a reason → disbursed with a payment reference. A member sees its own.

Rules: active members only; a yearly cap per kind and member (the organisation's policy); no second open
application of the same kind (a unique slot, so the database refuses the second of two racing); an
approval commits the amount against the branch's assistance budget of the year, refused if that would
overspend it (``ledger``).

A mutual medical aid claim (kind ``mutual_aid``, submitted through ``mutual_aid.claim``) follows the same
workflow; its approval holds its amount on the member's yearly cap and commits it against the scheme's
mutual_aid budget, and a rejection gives both back (``mutual_aid``)."""
from __future__ import annotations

from bson import ObjectId

from shared import versioned
from shared.errors import Forbidden, NotFound, Refused, in_state, refuse_unless
from shared.events.envelope import utcnow

from ..documents import Application, Budget, Step
from ..domain import assistance, mutual_aid
from ..published.assistance import (
    APPLICATION_APPROVED,
    APPLICATION_REJECTED,
    APPLICATION_REVIEWED,
    DISBURSEMENT_MADE,
    application_decided,
    disbursement_made,
)
from . import access, keys, ledger, policies
from . import mutual_aid as mutual_aid_app
from .context import Context, Found

BUDGET_CATEGORY = "assistance"


def _year(now) -> int:
    return now.year  # UTC; a year boundary is crossed at 08:00 Beijing time on 1 January


def granted_this_year(member_id: str, kind: str, year: int, exclude: ObjectId | None = None) -> int:
    rows = Application.objects(member_id=member_id, kind=kind, year=year,
                               status__in=list(assistance.COUNTS_TOWARDS_CAP))
    return sum(a.amount_fen for a in rows if a.pk != exclude)


def submit(ctx: Context, member_id: str | None, kind: str, amount_fen: int, reason: str,
           child_school: str | None = None, child_admission_year: int | None = None) -> Application:
    member = access.acting_member(ctx, member_id)
    refuse_unless(assistance.check_applicant, member.status)
    refuse_unless(assistance.check_kind_details, kind, child_school, child_admission_year)
    path = list(member.org_path)
    if not path:
        raise in_state("member_id", "the member belongs to no organisation")
    policy, _ = policies.effective(path)
    now = utcnow()
    refuse_unless(assistance.check_cap, kind, amount_fen, granted_this_year(str(member.pk), kind, _year(now)), policy)
    application = Application(
        id=ObjectId(), member_id=str(member.pk), org_id=path[-1], org_path=path, kind=kind, year=_year(now),
        amount_fen=amount_fen, reason_encrypted=keys.seal(ctx, {"reason": reason}), child_school=child_school,
        child_admission_year=child_admission_year,
        open_slot=f"{member.pk}:{kind}", submitted_by=ctx.who.sub, submitted_at=now,
        trail=[Step(action="submit", by=ctx.who.sub, by_org=ctx.who.org, at=now)])
    return versioned.insert(application, lambda: in_state("kind", f"the member already has an open {kind} application",
                                                          "Open."))


def reason_of(ctx: Context, application: Application) -> str:
    """The applicant's reasons, opened for whoever may read the application (it is sealed at rest)."""
    return keys.unseal(ctx, application.reason_encrypted)["reason"]


def read(ctx: Context, application_id: str) -> Application:
    return access.own_or_in_scope(ctx, Application, application_id, "application")


def _staff_read(ctx: Context, application_id: str) -> Application:
    """What only staff of the application's branch or above act on (a member is told it is not found)."""
    application = read(ctx, application_id)
    if not access.sees(ctx, application.org_path):
        raise NotFound("application not found")
    return application


def listing(ctx: Context, status: str | None, kind: str | None, member_id: str | None) -> Found:
    """Staff: applications of their organisation and below. A member: its own."""
    rows = access.own_or_subtree(ctx, Application)
    if member_id and access.is_staff(ctx):
        rows = rows.filter(member_id=member_id)
    if status:
        rows = rows.filter(status=status)
    return Found(rows.filter(kind=kind) if kind else rows, None)


def _step(ctx: Context, application: Application, action: str, note: str | None = None) -> dict:
    return {"trail": [*application.trail, Step(action=action, by=ctx.who.sub, by_org=ctx.who.org, at=utcnow(),
                                               note=note)]}


def _write(application: Application, events, sets: dict, status: str) -> None:
    if not versioned.write(application, events, conditions={"status": status}, sets=sets):
        raise in_state("status", "the application changed meanwhile; read it again")


def review(ctx: Context, application_id: str, note: str | None) -> Application:
    application = _staff_read(ctx, application_id)
    refuse_unless(assistance.check_transition, "review", application.status)
    _write(application, [(APPLICATION_REVIEWED, application_decided)],
           {"status": "reviewed", **_step(ctx, application, "review", note)}, "submitted")
    return application


def approve(ctx: Context, application_id: str, note: str | None) -> Application:
    """Commit the amount against the branch's assistance budget, then mark the application approved.

    The commitment's key is the application's: a second approver racing this one finds it written and
    gives its own increment back; whoever then writes the application wins, and if a rejection won
    instead, the commitment is reversed."""
    application = _staff_read(ctx, application_id)
    refuse_unless(assistance.check_transition, "approve", application.status)
    policy, _ = policies.effective(list(application.org_path))
    if assistance.needs_level_above(application.amount_fen, policy) and not access.above(
            ctx, list(application.org_path)):
        raise Forbidden(f"over the branch's limit of {policy.branch_limit_fen} fen: the level above the branch "
                        "approves")
    claim = application.kind == mutual_aid.KIND
    if claim:  # a mutual aid claim: the member's yearly cap is held on its enrolment, the scheme's budget pays
        budget = mutual_aid_app.budget_of(application)
        mutual_aid_app.hold_cap(application)
    else:
        refuse_unless(assistance.check_cap, application.kind, application.amount_fen,
                      granted_this_year(application.member_id, application.kind, application.year, application.pk),
                      policy)
        budget = _budget(application)
    try:
        entry, _ = ledger.record(budget, "commitment", application.amount_fen, f"commit:{application.pk}", ctx.who.sub,
                                 application_id=application.pk, note=note)
    except Exception:
        if claim and ledger.existing(f"commit:{application.pk}") is None:  # not committed by a racing approval
            mutual_aid_app.release_cap(application)
        raise
    sets = {"status": "approved", "commitment_id": entry.pk, "decided_at": utcnow(),
            "needs_level_above": int(assistance.needs_level_above(application.amount_fen, policy)),
            **_step(ctx, application, "approve", note)}
    if not versioned.write(application, [(APPLICATION_APPROVED, application_decided)],
                           conditions={"status": "reviewed"}, sets=sets):
        application.reload()
        if application.status not in ("approved", "disbursed"):  # rejected meanwhile: nothing to commit
            _release(entry, ctx.who.sub)
            if claim:
                mutual_aid_app.release_cap(application)
        raise in_state("status", f"the application was {application.status} meanwhile")
    return application


def _category(application: Application) -> str:
    return mutual_aid.BUDGET_CATEGORY if application.kind == mutual_aid.KIND else BUDGET_CATEGORY


def _budget(application: Application) -> Budget:
    budget = Budget.objects(org_id=application.org_id, year=application.year, category=BUDGET_CATEGORY).first()
    if budget is None:
        raise Refused.on("amount_fen", f"the branch has no assistance budget for {application.year}", "No budget.")
    return budget


def _release(entry, by: str) -> None:
    if ledger.existing(f"reverse:{entry.pk}") is None:
        try:
            ledger.reverse(entry, by, "the application was not approved")
        except Exception:  # reversed by a racing request: nothing left to do
            pass


def reject(ctx: Context, application_id: str, reason: str) -> Application:
    """Staff of the branch or above reject a submitted application; a reviewed one over the branch's limit
    is rejected by whoever may approve it (the level above)."""
    application = _staff_read(ctx, application_id)
    refuse_unless(assistance.check_transition, "reject", application.status)
    if application.status == "reviewed":
        policy, _ = policies.effective(list(application.org_path))
        if assistance.needs_level_above(application.amount_fen, policy) and not access.above(
                ctx, list(application.org_path)):
            raise Forbidden("over the branch's limit: the level above the branch decides")
    sets = {"status": "rejected", "rejection_reason": reason, "open_slot": str(application.pk),
            "decided_at": utcnow(), **_step(ctx, application, "reject", reason)}
    _write(application, [(APPLICATION_REJECTED, application_decided)], sets, application.status)
    held = ledger.existing(f"commit:{application.pk}")  # an approval that died after committing, or racing this
    if held is not None:
        _release(held, ctx.who.sub)
    if application.kind == mutual_aid.KIND:
        mutual_aid_app.release_cap(application)
    return application


def disburse(ctx: Context, application_id: str, payment_reference: str, note: str | None) -> Application:
    """The approved amount is paid: a disbursement entry against the commitment (it spends nothing more
    of the budget), then the application is closed with the payment reference."""
    application = _staff_read(ctx, application_id)
    refuse_unless(assistance.check_transition, "disburse", application.status)
    budget = (Budget.objects(org_id=application.scheme_org_id or application.org_id, year=application.year,
                             category=_category(application)).first())
    if budget is None:
        raise in_state("application_id", "the budget the application was committed against is gone")
    entry, _ = ledger.record(budget, "disbursement", application.amount_fen, f"disburse:{application.pk}",
                             ctx.who.sub, committed=True, application_id=application.pk,
                             payment_reference=payment_reference, note=note)
    sets = {"status": "disbursed", "disbursement_id": entry.pk, "payment_reference": payment_reference,
            "open_slot": str(application.pk), **_step(ctx, application, "disburse", note)}
    _write(application, [(DISBURSEMENT_MADE, disbursement_made)], sets, "approved")
    return application
