"""Events of assistance applications: each decision, and the disbursement. Amounts are published; the
reasons a member gave, its health and its household never are."""
from __future__ import annotations

from shared.events.envelope import isoformat

from .types import event_type

APPLICATION_REVIEWED = event_type("application.reviewed")
APPLICATION_APPROVED = event_type("application.approved")
APPLICATION_REJECTED = event_type("application.rejected")
DISBURSEMENT_MADE = event_type("disbursement.made")

ASSISTANCE_TYPES = [APPLICATION_REVIEWED, APPLICATION_APPROVED, APPLICATION_REJECTED, DISBURSEMENT_MADE]


def application_decided(application) -> dict:
    step = application.trail[-1]
    data = {"application_id": str(application.pk), "member_id": application.member_id,
            "org_id": application.org_id, "kind": application.kind, "amount_fen": application.amount_fen,
            "status": application.status, "decided_by": step.by, "decided_at": isoformat(step.at),
            "version": application.version}
    if application.status == "rejected":
        data["reason"] = application.rejection_reason
    return data


def disbursement_made(application) -> dict:
    return {"application_id": str(application.pk), "member_id": application.member_id,
            "org_id": application.org_id, "kind": application.kind, "amount_fen": application.amount_fen,
            "payment_reference": application.payment_reference, "entry_id": str(application.disbursement_id),
            "disbursed_at": isoformat(application.trail[-1].at)}
