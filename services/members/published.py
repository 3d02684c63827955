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

ORGANISATION_CREATED = EventType("gonghui.members.organisation.created", 1, _SCHEMAS / "organisation.created.v1.json")
MEMBER_JOINED = EventType("gonghui.members.member.joined", 1, _SCHEMAS / "member.joined.v1.json")

ALL = [ORGANISATION_CREATED, MEMBER_JOINED]


def organisation_created(org: Organisation) -> dict:
    return {
        "org_id": str(org.pk),
        "name": org.name,
        "kind": org.kind,
        "parent_id": org.parent_id,
        "path": list(org.path),
        "status": org.status,
        "version": org.version,
    }


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
