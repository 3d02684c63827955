"""Integration events the notify service publishes on gonghui.notify.v1."""
from __future__ import annotations

from pathlib import Path

from shared.events.catalog import EventType
from shared.events.envelope import isoformat

from .documents import InboxMessage

SOURCE = "/gonghui/notify"
TOPIC = "gonghui.notify.v1"
_SCHEMAS = Path(__file__).parent / "schemas"

MESSAGE_DELIVERED = EventType("gonghui.notify.message.delivered", 1, _SCHEMAS / "message.delivered.v1.json")
DELIVERY_SENT = EventType("gonghui.notify.delivery.sent", 1, _SCHEMAS / "delivery.sent.v1.json")
DELIVERY_FAILED = EventType("gonghui.notify.delivery.failed", 1, _SCHEMAS / "delivery.failed.v1.json")

ALL = [MESSAGE_DELIVERED, DELIVERY_SENT, DELIVERY_FAILED]


def message_delivered(message: InboxMessage) -> dict:
    return {
        "message_id": str(message.pk),
        "member_id": message.member_id,
        "channel": "inbox",
        "category": message.category,
        "delivered_at": isoformat(message.created_at),
    }


def delivery_outcome(delivery: dict, attempts: int, at, error: str | None = None) -> dict:
    """delivery.sent (no error) or delivery.failed: which delivery, of what, to whom; no text, no address."""
    data = {"delivery_id": str(delivery["_id"]), "channel": delivery["channel"], "event_type": delivery["event_type"],
            "event_id": delivery["event_id"], "attempts": attempts}
    for name in ("member_id", "hook_id", "category"):
        if delivery.get(name):
            data[name] = delivery[name]
    if error is None:
        data["sent_at"] = isoformat(at)
    else:
        data.update(failed_at=isoformat(at), error=error[:500] or "failed")
    return data
