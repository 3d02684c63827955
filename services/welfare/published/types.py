"""The topic and the way its event types are named."""
from __future__ import annotations

from pathlib import Path

from shared.events.catalog import EventType

SOURCE = "/gonghui/welfare"
TOPIC = "gonghui.welfare.v1"
SCHEMAS = Path(__file__).parent.parent / "schemas"


def event_type(name: str) -> EventType:
    return EventType(f"gonghui.welfare.{name}", 1, SCHEMAS / f"{name}.v1.json")
