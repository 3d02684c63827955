"""Condolences (慰问, 送温暖): campaigns over a subtree with a per-head amount and their visits, and
life-event payments from a schedule of amounts, without I/O."""
from __future__ import annotations

from dataclasses import dataclass, field

from shared.rules import DomainError, StateError

# spring_festival_warmth (春节送温暖): the filed hardship households of the subtree; summer_cooling (夏送清凉):
# front-line workers (members chosen by employment type); sick_visit (住院慰问) and other: as staff choose
CAMPAIGN_KINDS = ("spring_festival_warmth", "summer_cooling", "sick_visit", "other")
SOURCES = ("hardship", "members")  # where the visit list comes from: filed hardship files, or the member read model
CAMPAIGN_STATUSES = ("generating", "open", "closed")
VISIT_STATUSES = ("pending", "visited")
DEFAULT_SOURCE = {"spring_festival_warmth": "hardship", "summer_cooling": "members", "sick_visit": "members",
                  "other": "members"}
BUDGET_CATEGORY = "condolences"

LIFE_EVENTS = ("marriage", "childbirth", "hospitalisation", "retirement", "bereavement")
ONCE_PER_MEMBER = ("retirement",)  # the others are told apart by the day they happened
DEFAULT_SCHEDULE = {"marriage": 50_000, "childbirth": 50_000, "hospitalisation": 30_000, "retirement": 100_000,
                    "bereavement": 50_000}  # fen per event


@dataclass(frozen=True)
class Schedule:
    """What an organisation pays for each life event (fen); 0: not paid there."""
    amounts: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_SCHEDULE))

    def amount(self, kind: str) -> int:
        return self.amounts.get(kind, DEFAULT_SCHEDULE[kind])


def check_source(kind: str, source: str, employment_types: list[str]) -> None:
    if source == "hardship" and employment_types:
        raise DomainError("employment_types", "a campaign over hardship households does not select by employment")
    if kind == "spring_festival_warmth" and source != "hardship":
        raise DomainError("source", "the Spring Festival warmth campaign visits the filed hardship households")


def check_generating(status: str) -> None:
    if status != "generating":
        raise StateError("status", "the campaign's visit list is already complete")


def check_open(status: str) -> None:
    if status != "open":
        raise StateError("status", f"visits are recorded while the campaign is open (it is {status})")


def check_visit(status: str) -> None:
    if status != "pending":
        raise StateError("status", "the visit is already recorded")


def check_visited_on(visited_on, today) -> None:
    if visited_on > today:
        raise DomainError("visited_on", "a visit is recorded once it has taken place")


def check_visit_amount(amount_fen: int, per_head_fen: int) -> None:
    if amount_fen < 1 or amount_fen > per_head_fen:
        raise DomainError("amount_fen", f"a visit gives at most the campaign's {per_head_fen} fen per head")


def life_event_key(member_id: str, kind: str, occurred_on) -> str:
    """One payment per member and event: an event is its kind and the day it happened (retirement: once)."""
    return f"{member_id}:{kind}" if kind in ONCE_PER_MEMBER else f"{member_id}:{kind}:{occurred_on.isoformat()}"


def check_life_event_amount(kind: str, schedule: Schedule) -> int:
    amount = schedule.amount(kind)
    if amount <= 0:
        raise DomainError("kind", f"the organisation's schedule pays nothing for {kind}")
    return amount


def check_beneficiary(status: str | None) -> None:
    if status != "active":
        raise StateError("member_id", "payments are for active members only")


def check_occurred(occurred_on, today) -> None:
    if occurred_on > today:
        raise DomainError("occurred_on", "a life event is paid once it has happened")
