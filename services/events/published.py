"""Integration events the events service publishes on gonghui.events.v1 (none yet)."""
from __future__ import annotations

SOURCE = "/gonghui/events"
TOPIC = "gonghui.events.v1"

ALL = []
