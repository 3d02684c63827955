"""Events of condolences: a campaign visit recorded, a life-event payment made. Amounts are published; the
household's circumstances, health and the visit's note never are."""
from __future__ import annotations

from shared.events.envelope import isoformat

from .types import event_type

CAMPAIGN_VISIT_RECORDED = event_type("campaign_visit.recorded")
LIFE_EVENT_PAID = event_type("life_event.paid")

CONDOLENCE_TYPES = [CAMPAIGN_VISIT_RECORDED, LIFE_EVENT_PAID]


def visit_recorded(campaign):
    def build(visit) -> dict:
        return {"visit_id": str(visit.pk), "campaign_id": str(campaign.pk), "campaign_kind": campaign.kind,
                "campaign_org_id": campaign.org_id, "member_id": visit.member_id, "org_id": visit.org_id,
                "amount_fen": visit.amount_fen, "visited_on": visit.visited_on.isoformat(),
                "entry_id": str(visit.entry_id), "recorded_at": isoformat(visit.recorded_at)}
    return build


def life_event_paid(payment) -> dict:
    return {"payment_id": str(payment.pk), "member_id": payment.member_id, "org_id": payment.org_id,
            "kind": payment.kind, "amount_fen": payment.amount_fen, "entry_id": str(payment.entry_id),
            "paid_at": isoformat(payment.paid_at)}
