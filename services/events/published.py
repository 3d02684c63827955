"""Integration events the events service publishes on gonghui.events.v1.

``attendance.recorded`` is the contract the members service relies on for
the six-month rule (taking part in union life); the events service emits it
when a member checks in at an activity or a congress session.
"""
from __future__ import annotations

from pathlib import Path

from shared.events.catalog import EventType

SOURCE = "/gonghui/events"
TOPIC = "gonghui.events.v1"
_SCHEMAS = Path(__file__).parent / "schemas"

ATTENDANCE_RECORDED = EventType("gonghui.events.attendance.recorded", 1, _SCHEMAS / "attendance.recorded.v1.json")

ALL = [ATTENDANCE_RECORDED]
