"""The six-month rule of the union constitution (中国工会章程, art. 5), as the README states it.

A member who, without good reason, for six consecutive months neither pays
dues nor takes part in union life, and does not change after being spoken to,
is treated as having left. All conditions must hold: missed dues alone never
end a membership. The system only opens an "education pending" review for
the branch to follow up; it never changes a status by itself. Kept
memberships owe no dues and are never flagged.
"""
from __future__ import annotations

from .dues import add_months

WINDOW = 6


def window_before(month: str) -> list[str]:
    """The six whole months before ``month`` (the month being evaluated)."""
    return [add_months(month, -i) for i in range(WINDOW, 0, -1)]


def needs_education_review(status: str, kept: bool, joined_month: str, paid_months: set[str],
                           active_months: set[str], evaluated_month: str) -> bool:
    if status != "active" or kept:
        return False
    window = window_before(evaluated_month)
    if joined_month > window[0]:
        return False  # not a member for six whole months yet
    return not any(m in paid_months or m in active_months for m in window)
