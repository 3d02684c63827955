"""Membership: statuses, employment types, card numbers."""
from __future__ import annotations

from .errors import DomainError, StateError

GENDERS = ("female", "male")
EMPLOYMENT_TYPES = ("permanent", "contract", "dispatched", "migrant", "rehired", "temporary", "gig")
MEMBER_STATUSES = ("applicant", "active", "suspended", "transferred_out", "left", "deceased")
HONOURS = ("model_worker", "skills_champion", "advanced_individual", "outstanding_union_member",
           "march8_red_banner_pacesetter")  # 劳模, 技术能手, 先进个人, 优秀工会会员, 三八红旗手


def card_number(year: int, sequence: int) -> str:
    """会员证号: GH, the year of issue, an 8-digit federation-wide sequence."""
    return f"GH{year}{sequence:08d}"


# --- status changes ----------------------------------------------------------

KEPT_REASONS = ("retired", "unemployed", "employer_closed")
LEAVE_REASONS = ("voluntary", "constitution_art5")

# action -> (statuses it may start from, status it leads to)
TRANSITIONS = {
    "approve": ({"applicant"}, "active"),
    "suspend": ({"active"}, "suspended"),
    "resume": ({"suspended"}, "active"),
    "leave": ({"active", "suspended"}, "left"),
    "keep": ({"active"}, "active"),  # kept membership: still a member, owes no dues, cannot vote or stand
    "deceased": ({"applicant", "active", "suspended"}, "deceased"),
}


def next_status(action: str, current: str, kept: bool = False) -> str:
    if action not in TRANSITIONS:
        raise DomainError("action", f"unknown action {action!r}")
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        raise StateError("action", f"cannot {action} a member whose status is {current}")
    if action == "keep" and kept:
        raise StateError("action", "the membership is already kept")
    return target


def may_vote(status: str, kept: bool) -> bool:
    return status == "active" and not kept


AGE_BANDS = ((0, 25, "under_25"), (25, 35, "25_34"), (35, 45, "35_44"), (45, 55, "45_54"), (55, 200, "55_plus"))


def age_band(birth, today) -> str:
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    for low, high, name in AGE_BANDS:
        if low <= age < high:
            return name
    return AGE_BANDS[-1][2]
