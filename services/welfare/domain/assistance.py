"""Assistance applications (帮扶申请) and the per-organisation policy they follow, without I/O."""
from __future__ import annotations

from dataclasses import dataclass, field

from shared.rules import DomainError, StateError

APPLIED_KINDS = ("living_subsidy", "medical_aid", "education_grant", "emergency_aid")  # what POST /applications takes
KINDS = (*APPLIED_KINDS, "mutual_aid")  # mutual_aid: a mutual medical aid claim (its own route, its own cap)
STATUSES = ("submitted", "reviewed", "approved", "rejected", "disbursed")
OPEN = ("submitted", "reviewed", "approved")  # one open application per member and kind
COUNTS_TOWARDS_CAP = ("approved", "disbursed")
TRANSITIONS = {"review": ("submitted",), "approve": ("reviewed",), "reject": ("submitted", "reviewed"),
               "disburse": ("approved",)}

DEFAULT_CAPS = {"living_subsidy": 600_000, "medical_aid": 2_000_000, "education_grant": 500_000,
                "emergency_aid": 300_000}  # fen per member, kind and year
DEFAULT_BRANCH_LIMIT = 200_000  # fen: above it, the level above the branch approves
DEFAULT_NOTICE_DAYS = 5


@dataclass(frozen=True)
class Policy:
    """What an organisation decided for the assistance and the hardship files below it."""
    branch_limit_fen: int = DEFAULT_BRANCH_LIMIT
    caps: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPS))
    notice_days: int = DEFAULT_NOTICE_DAYS

    def cap(self, kind: str) -> int:
        return self.caps.get(kind, DEFAULT_CAPS[kind])


def check_transition(action: str, status: str) -> None:
    if status not in TRANSITIONS[action]:
        raise StateError("status", f"an application that is {status} cannot be {_past(action)}")


def _past(action: str) -> str:
    return {"review": "reviewed", "approve": "approved", "reject": "rejected", "disburse": "disbursed"}[action]


def check_applicant(status: str | None) -> None:
    if status != "active":
        raise StateError("member_id", "assistance is for active members only")


def check_kind_details(kind: str, child_school: str | None, child_admission_year: int | None) -> None:
    """An education grant (金秋助学) names the child's school and admission year; other kinds do not."""
    if kind == "education_grant":
        if not child_school:
            raise DomainError("child_school", "an education grant names the child's school")
        if child_admission_year is None:
            raise DomainError("child_admission_year", "an education grant names the child's admission year")
    elif child_school is not None or child_admission_year is not None:
        raise DomainError("child_school", "only an education grant names a child's school")


def check_cap(kind: str, amount_fen: int, granted_this_year_fen: int, policy: Policy) -> None:
    """The member's approved and disbursed amounts of this kind this year, plus this one, within the cap."""
    cap = policy.cap(kind)
    if granted_this_year_fen + amount_fen > cap:
        left = max(0, cap - granted_this_year_fen)
        raise DomainError("amount_fen", f"over the yearly cap for {kind}: {left} fen left of {cap}")


def needs_level_above(amount_fen: int, policy: Policy) -> bool:
    return amount_fen > policy.branch_limit_fen


def check_approver(amount_fen: int, policy: Policy, approver_is_above_branch: bool) -> None:
    if needs_level_above(amount_fen, policy) and not approver_is_above_branch:
        raise DomainError("amount_fen", f"over the branch's limit of {policy.branch_limit_fen} fen: the level "
                                        "above the branch approves")
