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

ALL = [MESSAGE_DELIVERED]


def message_delivered(message: InboxMessage) -> dict:
    return {
        "message_id": str(message.pk),
        "member_id": message.member_id,
        "channel": "inbox",
        "category": message.category,
        "delivered_at": isoformat(message.created_at),
    }
