"""Joining the union: staff registration (入会登记), applications (入会申请) with their approval or
rejection, and a person who left coming back with the same record, card number and history."""
from __future__ import annotations

import logging

from bson import ObjectId
from mongoengine import NotUniqueError

from shared.errors import Conflict, TooMany
from shared.events.envelope import utcnow
from shared.scope import require_role

from .. import domain
from ..documents import HistoryEntry, Member, Organisation, RefusalBudget, UniquenessRefusal
from ..published import (
    CONTACT_CHANGED,
    MEMBER_APPLICATION_REJECTED,
    MEMBER_APPLIED,
    MEMBER_JOINED,
    contact_changed,
    member_application_rejected,
    member_applied,
    member_joined,
)
from . import access
from .context import Context
from .members import change

log = logging.getLogger(__name__)


def register(ctx: Context, person: dict) -> Member:
    """Register an active member and issue a card number (staff)."""
    require_role(ctx.who, "operator", "admin")
    org = access.holding_org(ctx, person["org_id"])
    member = _new_member(ctx, person, org, "active")
    _issue_card(ctx, member)
    member.record(MEMBER_JOINED, member_joined(member, org))
    return _insert(ctx, member, org, person)


def apply(ctx: Context, person: dict) -> Member:
    """Record a worker's application; the member starts as a pending applicant."""
    require_role(ctx.who, "operator", "admin")
    org = access.holding_org(ctx, person["org_id"])
    member = _new_member(ctx, person, org, "applicant")
    member.application_state = "pending"
    member.record(MEMBER_APPLIED, member_applied(member))
    return _insert(ctx, member, org, person)


def approve(ctx: Context, member_id: str) -> Member:
    """The applicant becomes an active member with a card number (kept from before if it had one)."""
    member = _pending(ctx, member_id)
    org = Organisation.objects(pk=member.org_id).first()
    if org is None or org.status != "active":
        raise access.in_state("org_id", "the organisation is closed", "Organisation is closed.")
    card_no, joined_at = member.card_no, utcnow()
    if not card_no:
        card_no = domain.card_number(joined_at.year, ctx.card_numbers.next())
    return change(ctx, member, "approve", [(MEMBER_JOINED, lambda m: member_joined(m, org))],
                  status="active", application_state="approved", card_no=card_no, joined_at=joined_at)


def reject(ctx: Context, member_id: str, reason: str) -> Member:
    """Reject with a reason. The record stays; the ID number is freed for a later application."""
    member = _pending(ctx, member_id)
    released = f"released:{member.pk}:{member.id_number_fingerprint}"
    return change(ctx, member, "reject",
                  [(MEMBER_APPLICATION_REJECTED, lambda m: member_application_rejected(m, reason))],
                  reason=reason, application_state="rejected", id_number_fingerprint=released)


def _pending(ctx: Context, member_id: str) -> Member:
    member = access.staff_member(ctx, member_id)
    if member.status != "applicant" or member.application_state != "pending":
        raise access.in_state("status", "there is no pending application", f"Status is {member.status}.")
    return member


def _new_member(ctx: Context, person: dict, org: Organisation, status: str) -> Member:
    """A Member built from validated input, personal data encrypted and masked."""
    birth = access.refuse_unless(domain.validate_id_number, person["id_number"])
    phone = access.refuse_unless(domain.validate_phone, person["phone"])
    id_number = domain.normalise_id_number(person["id_number"])
    now, vault = utcnow(), ctx.vault
    member = Member(
        id=ObjectId(), name=person["name"].strip(), gender=person["gender"], birth_year=birth.year,
        id_number_fingerprint=vault.fingerprint(id_number), id_number_encrypted=vault.encrypt(id_number),
        id_number_masked=domain.mask_id_number(id_number),
        phone_encrypted=vault.encrypt(phone), phone_masked=domain.mask_phone(phone),
        org_id=str(org.pk), org_path=list(org.path), employment_type=person["employment_type"],
        email_encrypted=vault.encrypt(person["email"]) if person.get("email") else None,
        job=person.get("job"), education=person.get("education"), status=status, created_at=now,
        history=[HistoryEntry(at=now, action="register" if status == "active" else "apply", by=ctx.who.sub,
                              to_status=status, org_id=str(org.pk))],
    )
    member.record(CONTACT_CHANGED, contact_changed(member, phone, person.get("email"), ctx.contact_seal))
    return member


def _issue_card(ctx: Context, member: Member) -> None:
    now = utcnow()
    member.card_no = domain.card_number(now.year, ctx.card_numbers.next())
    member.joined_at = now


def _insert(ctx: Context, member: Member, org: Organisation, person: dict) -> Member:
    """Store a new registration or application; a person who left comes back instead."""
    _refusal_budget(ctx, spend=False)
    try:
        member.save(force_insert=True)
        return member
    except NotUniqueError:  # the unique index on the fingerprint decides, even between racing requests
        back = _rejoin(ctx, member, org, person)
        if back is not None:
            return back
        _refuse_duplicate(ctx, member.id_number_fingerprint)
        raise


REJOINED_FIELDS = ("org_id", "org_path", "status", "name", "gender", "employment_type", "job", "education",
                   "phone_encrypted", "phone_masked", "email_encrypted", "application_state", "card_no", "joined_at")


def _rejoin(ctx: Context, fresh: Member, org: Organisation, person: dict) -> Member | None:
    """A person who left registers or applies again: the same record, card number and history come
    back, with the new organisation and details (None if the person has not left)."""
    member = Member.objects(id_number_fingerprint=fresh.id_number_fingerprint).first()
    if member is None or member.status != "left":
        return None
    joining = fresh.status == "active"
    if joining and member.card_no:
        fresh.card_no = member.card_no  # the card number is the person's for life; the fresh one stays unused
    sets = {key: getattr(fresh, key) for key in REJOINED_FIELDS
            if joining or key not in ("card_no", "joined_at")}  # an applicant keeps its card until approved
    phone = domain.validate_phone(person["phone"])
    events = [(MEMBER_JOINED, lambda m: member_joined(m, org)) if joining else (MEMBER_APPLIED, member_applied),
              (CONTACT_CHANGED, lambda m: contact_changed(m, phone, person.get("email"), ctx.contact_seal))]
    return change(ctx, member, "rejoin" if joining else "reapply", events, changed=sorted(sets),
                  kept_reason=None, left_at=None, **sets)


def _refusal_budget(ctx: Context, spend: bool) -> None:
    """A caller told "already registered elsewhere" more than ``refusals_per_hour`` times this hour gets
    429 for any registration until the hour ends, so that the answer cannot test ID numbers in bulk.
    The count is shared (atomic); each process remembers the callers it has seen go over it, so the
    check before a registration costs no query."""
    hour = utcnow().strftime("%Y-%m-%dT%H")
    key = f"{ctx.who.sub}:{hour}"
    if spend and key not in ctx.exhausted:
        budget = RefusalBudget._get_collection().find_one_and_update(
            {"_id": key}, {"$inc": {"n": 1}}, upsert=True, return_document=True)
        if budget["n"] > ctx.settings.refusals_per_hour:
            ctx.exhausted.difference_update({k for k in ctx.exhausted if not k.endswith(hour)})  # past hours
            ctx.exhausted.add(key)
    if key in ctx.exhausted:
        raise TooMany("too many registrations of people already registered; try again next hour",
                      code="too_many_requests")


def _refuse_duplicate(ctx: Context, fingerprint: str) -> None:
    existing = Member.objects(id_number_fingerprint=fingerprint).only("id", "org_path").first()
    if existing is None:
        return
    if access.visible_member(ctx)(existing):  # the caller's own member: nothing is told that it cannot read
        message = f"this ID number is already registered as member {existing.pk}"
    else:  # all the caller learns is "registered somewhere": recorded, and rationed
        UniquenessRefusal(by=ctx.who.sub, by_org=ctx.who.org, request_id=ctx.request_id, at=utcnow()).save()
        log.warning("registration refused: ID number registered outside the caller's scope",
                    extra={"by": ctx.who.sub})
        _refusal_budget(ctx, spend=True)
        message = "this ID number is already registered with another union organisation"
    raise Conflict(message, {"id_number": [message]}, code="already_registered")
