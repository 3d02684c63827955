"""Integration events the members service publishes on gonghui.members.v1.

Each has a JSON Schema in schemas/; the data is built here from the domain
change, never dumped from a Document. No ID number and no phone, ever.
"""
from __future__ import annotations

import json
from pathlib import Path

from shared.events.catalog import EventType
from shared.events.envelope import isoformat

from .documents import DuesAccount, Member, Organisation, Review, Transfer

SOURCE = "/gonghui/members"
TOPIC = "gonghui.members.v1"
CONTACTS_TOPIC = "gonghui.members.contacts.v1"  # contact details, sealed for notify: only notify subscribes
_SCHEMAS = Path(__file__).parent / "schemas"


def _type(name: str) -> EventType:
    return EventType(f"gonghui.members.{name}", 1, _SCHEMAS / f"{name}.v1.json")


ORGANISATION_CREATED = _type("organisation.created")
ORGANISATION_UPDATED = _type("organisation.updated")
ORGANISATION_MOVED = _type("organisation.moved")
ORGANISATION_CLOSED = _type("organisation.closed")
MEMBER_APPLIED = _type("member.applied")
MEMBER_APPLICATION_REJECTED = _type("member.application_rejected")
MEMBER_JOINED = _type("member.joined")
MEMBER_UPDATED = _type("member.updated")
MEMBER_STATUS_CHANGED = _type("member.status_changed")
MEMBER_LEFT = _type("member.left")
TRANSFER_REQUESTED = _type("transfer.requested")
TRANSFER_ACCEPTED = _type("transfer.accepted")
TRANSFER_DECLINED = _type("transfer.declined")
TRANSFER_EXPIRED = _type("transfer.expired")
DUES_ASSESSED = _type("dues.assessed")
DUES_PAID = _type("dues.paid")
REVIEW_OPENED = _type("review.opened")
REVIEW_RESOLVED = _type("review.resolved")
CONTACT_CHANGED = EventType("gonghui.members.contact.changed", 2, _SCHEMAS / "contact.changed.v2.json")
ROUTES = {CONTACT_CHANGED.name: CONTACTS_TOPIC}

ALL = [ORGANISATION_CREATED, ORGANISATION_UPDATED, ORGANISATION_MOVED, ORGANISATION_CLOSED, MEMBER_APPLIED,
       MEMBER_APPLICATION_REJECTED, MEMBER_JOINED, MEMBER_UPDATED, MEMBER_STATUS_CHANGED, MEMBER_LEFT,
       TRANSFER_REQUESTED, TRANSFER_ACCEPTED, TRANSFER_DECLINED, TRANSFER_EXPIRED, DUES_ASSESSED, DUES_PAID,
       REVIEW_OPENED, REVIEW_RESOLVED, CONTACT_CHANGED]


def _org_fields(org: Organisation) -> dict:
    return {
        "org_id": str(org.pk),
        "name": org.name,
        "kind": org.kind,
        "parent_id": org.parent_id,
        "path": list(org.path),
        "status": org.status,
        "credit_code": org.credit_code,
        "headcount": org.headcount,
        "version": org.version,
    }


def organisation_created(org: Organisation) -> dict:
    return _org_fields(org)


def organisation_updated(org: Organisation, changed: list[str]) -> dict:
    return {**_org_fields(org), "changed": sorted(changed)}


def organisation_moved(org: Organisation, old_path: list[str]) -> dict:
    return {**_org_fields(org), "old_path": list(old_path)}


def organisation_closed(org: Organisation) -> dict:
    return {**_org_fields(org), "closed_at": isoformat(org.closed_at)}


def member_snapshot(member: Member) -> dict:
    """What every member event carries: enough for another service's read model."""
    return {
        "member_id": str(member.pk),
        "name": member.name,
        "gender": member.gender,
        "employment_type": member.employment_type,
        "status": member.status,
        "kept": bool(member.kept_reason),
        "honours": list(member.honours or []),
        "org_id": member.org_id,
        "org_path": list(member.org_path),
        "version": member.version,
    }


def member_applied(member: Member) -> dict:
    return {**member_snapshot(member), "applied_at": isoformat(member.created_at)}


def member_application_rejected(member: Member, reason: str) -> dict:
    return {**member_snapshot(member), "reason": reason}


def member_updated(member: Member, changed: list[str]) -> dict:
    return {**member_snapshot(member), "changed": sorted(changed)}


def member_status_changed(member: Member, action: str, from_status: str, reason: str | None) -> dict:
    return {**member_snapshot(member), "action": action, "from_status": from_status, "reason": reason}


def member_left(member: Member, reason: str | None) -> dict:
    return {**member_snapshot(member), "reason": reason, "left_at": isoformat(member.left_at)}


def member_joined(member: Member, org: Organisation) -> dict:
    return {**member_snapshot(member), "card_no": member.card_no, "org_name": org.name,
            "joined_at": isoformat(member.joined_at)}


def transfer_data(transfer: Transfer) -> dict:
    """Both sides' paths, so each branch's admins (and systems) can be told."""
    return {
        "transfer_id": str(transfer.pk),
        "member_id": transfer.member_id,
        "from_org_id": transfer.from_org_id,
        "from_org_path": list(transfer.from_org_path),
        "to_org_id": transfer.to_org_id,
        "to_org_path": list(transfer.to_org_path),
        "status": transfer.status,
        "requested_at": isoformat(transfer.requested_at),
        "expires_at": isoformat(transfer.expires_at),
        "decided_at": isoformat(transfer.decided_at) if transfer.decided_at else None,
        "reason": transfer.decision_reason if transfer.status != "requested" else transfer.reason,
        "version": transfer.version,
    }


def dues_data(account: DuesAccount) -> dict:
    """Amounts in integer fen; the wage itself stays inside the members service."""
    return {
        "member_id": account.member_id,
        "org_id": account.org_id,
        "org_path": list(account.org_path),
        "month": account.month,
        "dues_fen": account.dues_fen,
        "paid_fen": account.paid_fen,
        "outstanding_fen": max(account.dues_fen - account.paid_fen, 0),
        "exempt": account.exempt,
        "version": account.version,
    }


def review_data(review: Review) -> dict:
    return {
        "review_id": str(review.pk),
        "member_id": review.member_id,
        "org_id": review.org_id,
        "org_path": list(review.org_path),
        "evaluated_month": review.evaluated_month,
        "window": list(review.window),
        "status": review.status,
        "outcome": review.outcome,
        "version": review.version,
    }


def contact_changed(member: Member, phone: str, email: str | None, seal) -> dict:
    """Published on gonghui.members.contacts.v1 only; the values sealed with the contact keys (``seal``:
    a Vault of GONGHUI_CONTACT_KEYS), which only members and notify hold."""
    return {"member_id": str(member.pk), "sealed": seal.encrypt(json.dumps({"phone": phone, "email": email})),
            "version": member.version}
