"""Integration events the welfare service publishes on gonghui.welfare.v1 (none yet)."""
from __future__ import annotations

SOURCE = "/gonghui/welfare"
TOPIC = "gonghui.welfare.v1"

ALL = []
