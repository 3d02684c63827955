"""Deliveries by email, SMS and webhook join the queue here: one per key (event × recipient × channel);
a repeated key (a replayed event, a fan-out page done again) is a no-op."""
from __future__ import annotations

from datetime import datetime

from bson import ObjectId

from shared.db import insert_new
from shared.events.envelope import utcnow

from ..documents import Delivery


def delivery_key(event_id: str, recipient: str, channel: str) -> str:
    return f"{event_id}|{recipient}|{channel}"


def delivery_document(*, event_type: str, event_id: str, channel: str, recipient: str, org_path: list[str],
                      body: str, subject: str | None = None, member_id: str | None = None,
                      hook_id: str | None = None, category: str | None = None,
                      not_before: datetime | None = None) -> dict:
    """A delivery as Delivery.to_mongo() writes it, built directly (an announcement queues thousands);
    ``recipient`` is what makes it one of a kind for the event (a member id, a hook id);
    ``not_before``: when it may go (after the recipient's quiet hours), else now."""
    now = utcnow()
    doc = {"_id": ObjectId(), "key": delivery_key(event_id, recipient, channel), "channel": channel,
           "event_type": event_type, "event_id": event_id, "org_path": list(org_path), "body": body,
           "status": "pending", "next_at": max(not_before or now, now), "attempts": 0, "tries": [],
           "outbox": [], "created_at": now}
    for name, value in (("subject", subject), ("member_id", member_id), ("hook_id", hook_id),
                        ("category", category)):
        if value is not None:
            doc[name] = value
    return doc


def queue(docs: list[dict]) -> int:
    """Insert the deliveries not queued before; returns how many were new."""
    return len(docs) - len(insert_new(Delivery._get_collection(), docs))
