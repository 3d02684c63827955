"""Events of the hardship registry: decisions on files, the public notice opened and closed, objections
lodged. Never a household's details, health, income, category or an objection's text or author."""
from __future__ import annotations

from shared.events.envelope import isoformat

from .types import event_type

HARDSHIP_FILE_DECIDED = event_type("hardship_file.decided")
NOTICE_OPENED = event_type("notice.opened")
NOTICE_CLOSED = event_type("notice.closed")
OBJECTION_LODGED = event_type("objection.lodged")

HARDSHIP_TYPES = [HARDSHIP_FILE_DECIDED, NOTICE_OPENED, NOTICE_CLOSED, OBJECTION_LODGED]


def file_decided(decision: str):
    def build(hardship_file) -> dict:
        return {"file_id": str(hardship_file.pk), "member_id": hardship_file.member_id,
                "org_id": hardship_file.org_id, "decision": decision, "status": hardship_file.status,
                "review_on": hardship_file.review_on.isoformat() if hardship_file.review_on else None,
                "decided_at": isoformat(hardship_file.history[-1].at), "version": hardship_file.version}
    return build


def notice_opened(hardship_file) -> dict:
    return {"file_id": str(hardship_file.pk), "member_id": hardship_file.member_id, "org_id": hardship_file.org_id,
            "opens_at": isoformat(hardship_file.notice_opens_at),
            "closes_at": isoformat(hardship_file.notice_closes_at)}


def notice_closed(hardship_file, closed_at) -> dict:
    return {"file_id": str(hardship_file.pk), "member_id": hardship_file.member_id, "org_id": hardship_file.org_id,
            "closed_at": isoformat(closed_at), "objections": hardship_file.objections,
            "open_objections": hardship_file.open_objections}


def objection_lodged(objection, hardship_file) -> dict:
    return {"objection_id": str(objection.pk), "file_id": str(hardship_file.pk), "org_id": hardship_file.org_id,
            "lodged_at": isoformat(objection.lodged_at)}
