"""The hardship registry (困难职工档案, 建档立卡): a member's household file and its workflow, without I/O.

submitted → visited (入户调查) → in_notice (公示, objections may be lodged) → noticed (the notice ended)
→ filed (approved by the level above the branch) → re-checked: renewed (filed again, a new review date)
or closed (解困脱困). Rejected at any step before filing."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from shared.rules import DomainError, StateError

CATEGORIES = ("deep", "relative", "accident")  # 深度困难, 相对困难, 意外致困
CAUSES = ("illness", "disability", "unemployment", "schooling", "disaster", "accident", "other")
STATUSES = ("submitted", "visited", "in_notice", "noticed", "filed", "rejected", "closed")
ACTIVE = ("submitted", "visited", "in_notice", "noticed", "filed")  # one such file per member
TRANSITIONS = {"visit": ("submitted",), "open_notice": ("visited",), "close_notice": ("in_notice",),
               "approve": ("noticed",), "reject": ("submitted", "visited", "noticed"), "recheck": ("filed",)}
MAX_NOTICE_DAYS = 30
REVIEW_AFTER = timedelta(days=365)  # files are re-checked at least yearly


def check_transition(action: str, status: str) -> None:
    if status not in TRANSITIONS[action]:
        raise StateError("status", f"a file that is {status} does not allow this ({action})")


def check_details(household_size: int, income_per_head_fen: int, local_minimum_fen: int, causes: list[str]) -> None:
    if household_size < 1:
        raise DomainError("household_size", "a household has at least one person")
    if income_per_head_fen < 0 or local_minimum_fen <= 0:
        raise DomainError("local_minimum_fen", "the local minimum living allowance is a positive amount")
    if not causes:
        raise DomainError("causes", "name at least one cause")


def check_notice_over(closes_at: datetime, now: datetime) -> None:
    if now < closes_at:
        raise StateError("status", "the public notice has not ended yet")


def check_objection_window(status: str, closes_at: datetime | None, now: datetime) -> None:
    if status != "in_notice" or closes_at is None or now >= closes_at:
        raise StateError("file_id", "objections are lodged only while the file's public notice runs")


def check_no_open_objection(open_objections: int) -> None:
    if open_objections > 0:
        raise StateError("objections", f"{open_objections} objection(s) not yet resolved")


def check_review_date(review_on: date, today: date) -> None:
    if review_on <= today:
        raise DomainError("review_on", "the review date is in the future")
    if review_on > today + REVIEW_AFTER + timedelta(days=1):
        raise DomainError("review_on", "a file is re-checked at least yearly")
