"""Mutual medical aid (职工医疗互助): a member's yearly enrolment with its contribution (a ledger contribution
to the mutual_aid budget of the organisation running the scheme), and hospitalisation claims.

A claim is an assistance application of kind ``mutual_aid`` and follows its workflow (``applications``:
submitted → reviewed → approved, by the level above over the branch's limit, or rejected → disbursed);
what differs is decided here: its amount (the scheme's rate of the expenses above the deductible, within
what is left of the member's yearly cap), the budget that pays it (the scheme's), and the cap, held at
approval by one conditional write of the enrolment (``cap_left_fen >= amount`` and the claim not yet
holding; the claim's id joins a plain id list), so that two racing approvals cannot exceed it, and given
back when a claim is rejected or its approval loses a race."""
from __future__ import annotations

from datetime import date

from bson import ObjectId

from shared import versioned
from shared.errors import Refused, in_state, refuse_unless
from shared.events.envelope import utcnow

from ..documents import Application, Budget, Enrolment, Step
from ..domain import mutual_aid
from . import access, keys, ledger, policies
from .context import Context, Found


def _budget(org_id: str, year: int) -> Budget:
    budget = Budget.objects(org_id=org_id, year=year, category=mutual_aid.BUDGET_CATEGORY).first()
    if budget is None:
        raise Refused.on("member_id", f"the scheme's organisation has no mutual_aid budget for {year}", "No budget.")
    return budget


def enrol(ctx: Context, member_id: str | None) -> Enrolment:
    """The member (or staff for a member of their scope) enrols for this year under the scheme covering its
    branch; its contribution is received into the scheme's mutual_aid budget. Once per member and year."""
    member = access.acting_member(ctx, member_id)
    refuse_unless(mutual_aid.check_enrollee, member.status)
    path = list(member.org_path)
    scheme, scheme_org = policies.mutual_aid_scheme(path)
    if scheme_org is None:
        raise in_state("member_id", "no mutual aid scheme covers the member's organisation", "No scheme.")
    year = utcnow().year
    key = f"{member.pk}:{year}"
    if Enrolment.objects(key=key).count():
        raise in_state("member_id", f"the member is already enrolled for {year}", "Enrolled.")
    entry, _ = ledger.record(_budget(scheme_org, year), "contribution", scheme.contribution_fen, f"enrol:{key}",
                             ctx.who.sub, note="mutual aid contribution")
    enrolment = Enrolment(id=ObjectId(), key=key, member_id=str(member.pk), org_id=path[-1], org_path=path,
                          scheme_org_id=scheme_org, year=year, contribution_fen=entry.amount_fen, entry_id=entry.pk,
                          rate_percent=scheme.rate_percent, deductible_fen=scheme.deductible_fen,
                          cap_fen=scheme.cap_fen, cap_left_fen=scheme.cap_fen, enrolled_by=ctx.who.sub,
                          enrolled_at=utcnow())
    return versioned.insert(enrolment, lambda: in_state("member_id", f"the member is already enrolled for {year}",
                                                        "Enrolled."))


def read_enrolment(ctx: Context, enrolment_id: str) -> Enrolment:
    return access.own_or_in_scope(ctx, Enrolment, enrolment_id, "enrolment")


def enrolments(ctx: Context, member_id: str | None, year: int | None) -> Found:
    rows = access.own_or_subtree(ctx, Enrolment)
    if member_id and access.is_staff(ctx):
        rows = rows.filter(member_id=member_id)
    return Found(rows.filter(year=year) if year else rows, None)


def _scheme_of(enrolment: Enrolment) -> mutual_aid.Scheme:
    return mutual_aid.Scheme(enrolment.rate_percent, enrolment.deductible_fen, enrolment.cap_fen,
                             enrolment.contribution_fen)


def claim(ctx: Context, member_id: str | None, expenses_fen: int, admitted_on: date, discharged_on: date,
          reason: str) -> Application:
    """A hospitalisation claim of an enrolled member (or staff for it): an application of kind mutual_aid for
    the reimbursement due under the terms it enrolled on. Several may be open; the cap decides at approval."""
    member = access.acting_member(ctx, member_id)
    refuse_unless(mutual_aid.check_enrollee, member.status)
    refuse_unless(mutual_aid.check_stay, admitted_on, discharged_on)
    now = utcnow()
    enrolment = Enrolment.objects(member_id=str(member.pk), year=now.year).first()
    if enrolment is None:
        raise in_state("member_id", f"the member is not enrolled in mutual aid for {now.year}", "Not enrolled.")
    amount = refuse_unless(mutual_aid.claim_amount, expenses_fen, _scheme_of(enrolment), enrolment.cap_left_fen)
    path = list(member.org_path)
    application_id = ObjectId()
    application = Application(
        id=application_id, member_id=str(member.pk), org_id=path[-1], org_path=path, kind=mutual_aid.KIND,
        year=now.year, amount_fen=amount, reason_encrypted=keys.seal(ctx, {"reason": reason}),
        open_slot=str(application_id), enrolment_id=enrolment.pk,
        scheme_org_id=enrolment.scheme_org_id, expenses_fen=expenses_fen, admitted_on=admitted_on,
        discharged_on=discharged_on, submitted_by=ctx.who.sub, submitted_at=now,
        trail=[Step(action="submit", by=ctx.who.sub, by_org=ctx.who.org, at=now)])
    application.save(force_insert=True)
    return application


# what applications.approve, reject and disburse ask of a claim


def budget_of(application: Application) -> Budget:
    return _budget(application.scheme_org_id, application.year)


def hold_cap(application: Application) -> None:
    """Take the claim's amount from what is left of the member's yearly cap, once per claim, in one
    conditional write; refused (422) when it does not fit."""
    held = Enrolment._get_collection().update_one(
        {"_id": application.enrolment_id, "cap_left_fen": {"$gte": application.amount_fen},
         "claims": {"$ne": str(application.pk)}},
        {"$inc": {"cap_left_fen": -application.amount_fen, "reimbursed_fen": application.amount_fen},
         "$push": {"claims": str(application.pk)}})
    if held.modified_count:
        return
    if Enrolment.objects(pk=application.enrolment_id, claims=str(application.pk)).count():
        return  # held already (a racing approval of the same claim)
    left = Enrolment.objects(pk=application.enrolment_id).only("cap_left_fen").first()
    raise Refused.on("amount_fen", f"over the member's yearly mutual aid cap: {left.cap_left_fen if left else 0} "
                                   "fen left", "Over the cap.")


def release_cap(application: Application) -> None:
    """Give the claim's amount back to the member's cap, if it holds any (once)."""
    Enrolment._get_collection().update_one(
        {"_id": application.enrolment_id, "claims": str(application.pk)},
        {"$inc": {"cap_left_fen": application.amount_fen, "reimbursed_fen": -application.amount_fen},
         "$pull": {"claims": str(application.pk)}})
