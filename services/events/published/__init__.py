"""Integration events the events service publishes on gonghui.events.v1, each with a JSON Schema in
schemas/; the data is built here from the change, never dumped from a Document, and carries no personal
data beyond what a member snapshot already carries (ids, never names, ID numbers or phones).

``attendance.recorded`` is the contract the members service's six-month rule relies on (taking part in
union life); ``award.granted`` is how an honour reaches the member.
"""
from __future__ import annotations

from .activities import ACTIVITY_TYPES
from .congress import CONGRESS_TYPES
from .types import SOURCE, TOPIC

ALL = [*ACTIVITY_TYPES, *CONGRESS_TYPES]

__all__ = ["ALL", "SOURCE", "TOPIC"]
