"""Integration events the members service publishes on gonghui.members.v1.

Each has a JSON Schema in schemas/; the data is built here from the domain
change, never dumped from a Document. No ID number and no phone, ever.
"""
from __future__ import annotations

from pathlib import Path

from shared.events.catalog import EventType
from shared.events.envelope import isoformat

from .documents import Member, Organisation

SOURCE = "/gonghui/members"
TOPIC = "gonghui.members.v1"
_SCHEMAS = Path(__file__).parent / "schemas"


def _type(name: str) -> EventType:
    return EventType(f"gonghui.members.{name}", 1, _SCHEMAS / f"{name}.v1.json")


ORGANISATION_CREATED = _type("organisation.created")
ORGANISATION_UPDATED = _type("organisation.updated")
ORGANISATION_MOVED = _type("organisation.moved")
ORGANISATION_CLOSED = _type("organisation.closed")
MEMBER_JOINED = _type("member.joined")

ALL = [ORGANISATION_CREATED, ORGANISATION_UPDATED, ORGANISATION_MOVED, ORGANISATION_CLOSED, MEMBER_JOINED]


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


def member_joined(member: Member, org: Organisation) -> dict:
    return {
        "member_id": str(member.pk),
        "name": member.name,
        "gender": member.gender,
        "employment_type": member.employment_type,
        "status": member.status,
        "card_no": member.card_no,
        "org_id": member.org_id,
        "org_name": org.name,
        "org_path": list(member.org_path),
        "joined_at": isoformat(member.joined_at),
        "version": member.version,
    }
