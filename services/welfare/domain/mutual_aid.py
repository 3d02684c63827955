"""Mutual medical aid (职工医疗互助): a yearly enrolment with a contribution, and hospitalisation claims
reimbursed at a rate above a deductible, up to a yearly cap per member, without I/O."""
from __future__ import annotations

from dataclasses import dataclass

from shared.rules import DomainError, StateError

KIND = "mutual_aid"  # an assistance application of this kind is a claim
BUDGET_CATEGORY = "mutual_aid"
DEFAULT_RATE_PERCENT = 50
DEFAULT_DEDUCTIBLE = 100_000  # fen per claim
DEFAULT_CAP = 5_000_000  # fen per member and year
DEFAULT_CONTRIBUTION = 3_000  # fen per member and year


@dataclass(frozen=True)
class Scheme:
    """The terms an organisation runs its mutual aid on (a member is covered by the nearest on its path)."""
    rate_percent: int = DEFAULT_RATE_PERCENT
    deductible_fen: int = DEFAULT_DEDUCTIBLE
    cap_fen: int = DEFAULT_CAP
    contribution_fen: int = DEFAULT_CONTRIBUTION


def check_scheme(scheme: Scheme) -> None:
    if not 1 <= scheme.rate_percent <= 100:
        raise DomainError("rate_percent", "a rate is between 1 and 100 percent")
    if scheme.cap_fen < 1:
        raise DomainError("cap_fen", "the yearly cap is a positive amount")


def reimbursement(expenses_fen: int, scheme: Scheme) -> int:
    """What a hospitalisation's eligible expenses give back: the rate of what exceeds the deductible (fen,
    rounded down)."""
    return max(0, expenses_fen - scheme.deductible_fen) * scheme.rate_percent // 100


def claim_amount(expenses_fen: int, scheme: Scheme, cap_left_fen: int) -> int:
    """The reimbursement, within what is left of the member's yearly cap; refused when nothing is due."""
    due = reimbursement(expenses_fen, scheme)
    if due <= 0:
        raise DomainError("expenses_fen", f"the expenses do not exceed the deductible of {scheme.deductible_fen} fen")
    if cap_left_fen <= 0:
        raise StateError("expenses_fen", "the member's yearly cap is used up")
    return min(due, cap_left_fen)


def check_stay(admitted_on, discharged_on) -> None:
    if discharged_on < admitted_on:
        raise DomainError("discharged_on", "a stay ends after it begins")


def check_enrollee(status: str | None) -> None:
    if status != "active":
        raise StateError("member_id", "mutual aid enrols active members only")
