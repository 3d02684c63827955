"""A member's life after joining: profile changes, status changes (suspend, resume, leave, keep the
membership, death), and the member's personal data in clear for those entitled to it."""
from __future__ import annotations

import logging
import re

from shared import versioned
from shared.errors import Conflict, Forbidden, Refused
from shared.events.envelope import utcnow

from .. import domain
from ..documents import HistoryEntry, Member, PiiAccess
from ..published import (
    CONTACT_CHANGED,
    MEMBER_LEFT,
    MEMBER_STATUS_CHANGED,
    MEMBER_UPDATED,
    contact_changed,
    member_left,
    member_status_changed,
    member_updated,
)
from . import access
from .context import Context, Found

log = logging.getLogger(__name__)


def search(ctx: Context, org_id: str | None, filters: dict, with_joined_at: bool = False) -> Found:
    """Members in a subtree (the caller's own by default): name prefix, card number, status,
    employment type, gender. Served by the indexes on org_path and each field."""
    org = access.subtree_root(ctx, org_id)
    rows = Member.objects(org_path=str(org.pk))
    for key in ("card_no", "status", "employment_type", "gender"):
        if filters.get(key):
            rows = rows.filter(**{key: filters[key]})
    if filters.get("name"):
        rows = rows.filter(__raw__={"name": {"$regex": "^" + re.escape(filters["name"].strip())}})
    if with_joined_at:
        rows = rows.filter(joined_at__exists=True)
    return Found(rows, access.within(ctx, str(org.pk), lambda m: m.org_path))


def change(ctx: Context, member: Member, action: str, events, reason: str | None = None,
           changed: list[str] | None = None, **sets) -> Member:
    """Set ``sets`` on the member with a history entry and ``events``, in one write guarded by the
    version that was read; 409 if the member changed meanwhile (the caller read a stale version)."""
    entry = HistoryEntry(at=utcnow(), action=action, by=ctx.who.sub, from_status=member.status,
                         to_status=sets.get("status", member.status), org_id=sets.get("org_id", member.org_id),
                         reason=reason, changed=changed or [])
    if not versioned.write(member, events, sets=sets, push__history=entry):
        raise Conflict("the member changed meanwhile; read it again and retry")
    member.history.append(entry)
    return member


def update_profile(ctx: Context, member_id: str, changes: dict) -> Member:
    """Change a member's profile (staff); contact details are re-sealed for notify when they change."""
    member = access.staff_member(ctx, member_id)
    if member.status in ("left", "deceased"):
        raise access.in_state("status", f"a member whose status is {member.status} cannot change", "Not changeable.")
    changes = dict(changes)
    sets, changed = {}, []
    phone = ctx.vault.decrypt(member.phone_encrypted)
    email = ctx.vault.decrypt(member.email_encrypted) if member.email_encrypted else None
    if "phone" in changes:
        new_phone = access.refuse_unless(domain.validate_phone, changes.pop("phone"))
        if new_phone != phone:
            phone = new_phone
            sets.update(phone_encrypted=ctx.vault.encrypt(phone), phone_masked=domain.mask_phone(phone))
            changed.append("phone")
    if "email" in changes:
        new_email = changes.pop("email")
        if new_email != email:
            email = new_email
            sets["email_encrypted"] = ctx.vault.encrypt(email) if email else None
            changed.append("email")
    if "honours" in changes:
        changes["honours"] = sorted(set(changes["honours"]))
    for key, value in changes.items():
        value = value.strip() if isinstance(value, str) else value
        if (list(getattr(member, key) or []) if key == "honours" else getattr(member, key)) != value:
            sets[key] = value
            changed.append(key)
    if not changed:
        return member
    events = [(MEMBER_UPDATED, lambda m: member_updated(m, changed))]
    if {"phone", "email"} & set(changed):
        events.append((CONTACT_CHANGED, lambda m: contact_changed(m, phone, email, ctx.contact_seal)))
    return change(ctx, member, "update", events, changed=changed, **sets)


def change_status(ctx: Context, member_id: str, action: str, reason: str | None) -> Member:
    """Suspend, resume, leave (退会), keep the membership (保留会籍) or record a death."""
    member = access.staff_member(ctx, member_id)
    target = access.refuse_unless(domain.next_status, action, member.status, bool(member.kept_reason))
    sets = {"status": target}
    if action == "keep":
        if reason not in domain.KEPT_REASONS:
            raise Refused.on("reason", "a kept membership needs its reason",
                             f"Must be one of: {', '.join(domain.KEPT_REASONS)}.")
        sets["kept_reason"] = reason
    if action == "leave":
        if reason not in domain.LEAVE_REASONS:
            raise Refused.on("reason", "leaving needs its reason",
                             f"Must be one of: {', '.join(domain.LEAVE_REASONS)}.")
        sets["left_at"] = utcnow()
    from_status = member.status
    events = [(MEMBER_STATUS_CHANGED, lambda m: member_status_changed(m, action, from_status, reason))]
    if action == "leave":
        events.append((MEMBER_LEFT, lambda m: member_left(m, reason)))
    return change(ctx, member, action, events, reason=reason, **sets)


def _personal_data_reader(ctx: Context, member_id: str) -> Member:
    """The member itself, or staff bound to its branch or above; never an operator, who runs the
    platform but has no business with members' personal data (PIPL)."""
    if not ctx.who.acts_as_member(member_id) and (not ctx.who.has("admin") or ctx.who.org is None):
        raise Forbidden("personal data in clear is for the member and the staff of its branch or above")
    return access.member(ctx, member_id)


def read_personal_data(ctx: Context, member_id: str) -> dict:
    """The ID number, phone and email in clear; every read is recorded (who, when, which member;
    never the values)."""
    member = _personal_data_reader(ctx, member_id)
    PiiAccess(member_id=str(member.pk), fields=["id_number", "phone", "email"], by=ctx.who.sub, by_org=ctx.who.org,
              request_id=ctx.request_id, at=utcnow()).save()
    log.info("personal data read", extra={"member_id": str(member.pk), "by": ctx.who.sub})
    return {"id_number": ctx.vault.decrypt(member.id_number_encrypted),
            "phone": ctx.vault.decrypt(member.phone_encrypted),
            "email": ctx.vault.decrypt(member.email_encrypted) if member.email_encrypted else None}


def personal_data_reads(ctx: Context, member_id: str):
    """Who has read the member's personal data in clear (a queryset, newest first by the page)."""
    member = _personal_data_reader(ctx, member_id)
    return PiiAccess.objects(member_id=str(member.pk))
