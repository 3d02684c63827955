"""The workers' congress (职工代表大会 / 教职工代表大会): the rules, as plain Python.

A congress belongs to a grassroots union. Its delegates (职工代表) are elected for a term (届) from the
union's active members whose membership is not kept (a kept membership cannot vote or stand). A session
(次会议) of the term needs more than two thirds of ALL the term's delegates present before anything is put
to the vote. Proposals (提案) need two seconders besides the proposer. Votes and elections are secret
ballots (无记名投票); a motion passes, and a candidate is elected, only with more than half of ALL the
term's delegates, not of those present or voting.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.rules import DomainError, StateError

__all__ = ["BALLOT_KINDS", "BALLOT_STATUSES", "BLANK", "CONGRESS_KINDS", "MOTION_CHOICES", "PROPOSAL_STATUSES",
           "SATISFACTION", "SECONDERS_NEEDED", "SESSION_STATUSES", "Candidate", "has_quorum", "majority_of"]

CONGRESS_KINDS = ("workers", "teachers")  # 职工代表大会, 教职工代表大会 (schools)
CONGRESS_ORG_KIND = "grassroots"
MAX_TERM_YEARS = 5  # a term runs three to five years
SESSION_STATUSES = ("called", "closed")

PROPOSAL_STATUSES = ("submitted", "accepted", "declined", "assigned", "answered", "rated")
SECONDERS_NEEDED = 2
SATISFACTION = ("satisfied", "basically_satisfied", "not_satisfied")
# proposal lifecycle: action -> (states it may start from, state it leads to)
PROPOSAL_TRANSITIONS = {
    "accept": (("submitted",), "accepted"),
    "decline": (("submitted",), "declined"),
    "assign": (("accepted", "assigned"), "assigned"),
    "answer": (("assigned",), "answered"),
    "rate": (("answered",), "rated"),
}

BALLOT_KINDS = ("motion", "election")
BALLOT_STATUSES = ("draft", "open", "closed")
MOTION_CHOICES = ("yes", "no", "abstain")
BLANK = "blank"  # an election ballot marking nobody


# -- delegates and terms ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """What standing (for delegate, or in an election) looks at in a member (the read model)."""
    status: str
    kept: bool
    org_path: tuple[str, ...]


def check_congress_org(kind: str | None, status: str | None) -> None:
    if kind != CONGRESS_ORG_KIND:
        raise DomainError("org_id", "a workers' congress belongs to a grassroots union")
    if status != "active":
        raise StateError("org_id", "the union is closed")


def check_can_stand(member: Candidate, union_id: str, field: str = "member_id") -> None:
    """Only an active member of the union (or a unit below it), whose membership is not kept."""
    if union_id not in member.org_path:
        raise DomainError(field, "not a member of this union")
    if member.status != "active":
        raise StateError(field, "only an active member can vote or stand")
    if member.kept:
        raise StateError(field, "a kept membership (保留会籍) cannot vote or stand")


def check_term(starts_on: date, ends_on: date) -> None:
    if ends_on <= starts_on:
        raise DomainError("ends_on", "a term ends after it starts")
    if starts_on.year + MAX_TERM_YEARS > date.max.year:
        raise DomainError("starts_on", "a term starts before the year 9995")
    try:
        limit = starts_on.replace(year=starts_on.year + MAX_TERM_YEARS)
    except ValueError:  # 29 February
        limit = starts_on.replace(year=starts_on.year + MAX_TERM_YEARS, day=28)
    if ends_on > limit:
        raise DomainError("ends_on", f"a term lasts at most {MAX_TERM_YEARS} years")


def check_session(held_on: date, starts_on: date, ends_on: date, agenda: list[str]) -> None:
    if not starts_on <= held_on <= ends_on:
        raise DomainError("held_on", "a session is held within its term")
    if not agenda:
        raise DomainError("agenda", "a session has an agenda")


def check_session_open(status: str) -> None:
    if status != "called":
        raise StateError("session_id", "the session is closed")


def check_delegate(delegates, member_id: str, field: str = "member_id") -> None:
    if member_id not in delegates:
        raise StateError(field, "not a delegate of this term")


# -- quorum --------------------------------------------------------------------------------------------------

def has_quorum(present: int, delegates: int) -> bool:
    """More than two thirds of ALL the term's delegates are checked in (exactly two thirds is not enough)."""
    return delegates > 0 and present * 3 > delegates * 2


def check_quorum(present: int, delegates: int) -> None:
    if not has_quorum(present, delegates):
        needed = delegates * 2 // 3 + 1
        raise StateError("session_id", f"voting needs more than two thirds of all {delegates} delegates "
                                       f"present ({needed}); {present} are checked in")


# -- proposals -----------------------------------------------------------------------------------------------

def next_proposal_status(action: str, status: str) -> str:
    sources, target = PROPOSAL_TRANSITIONS[action]
    if status not in sources:
        raise StateError("status", f"a proposal that is {status} cannot be {target}")
    return target


def check_seconding(status: str, proposer: str, seconder: str, seconders) -> None:
    if status != "submitted":
        raise StateError("status", "only a submitted proposal is seconded")
    if seconder == proposer:
        raise DomainError("member_id", "the proposer cannot second its own proposal")
    if seconder in seconders:
        raise StateError("member_id", "already seconded")


def check_acceptance(seconders) -> None:
    if len(set(seconders)) < SECONDERS_NEEDED:
        raise StateError("seconders", f"a proposal needs at least {SECONDERS_NEEDED} seconders (附议) "
                                      "besides the proposer before it is accepted")


def proposal_report(rows: list[tuple[str, str | None]]) -> dict:
    """Counts of a session's proposals ``[(status, satisfaction)]`` by state and by satisfaction."""
    by_status = {s: 0 for s in PROPOSAL_STATUSES}
    by_satisfaction = {s: 0 for s in SATISFACTION}
    for status, satisfaction in rows:
        by_status[status] = by_status.get(status, 0) + 1
        if satisfaction:
            by_satisfaction[satisfaction] = by_satisfaction.get(satisfaction, 0) + 1
    return {"total": len(rows), "by_status": by_status, "by_satisfaction": by_satisfaction}


# -- secret ballots ------------------------------------------------------------------------------------------

def check_ballot(kind: str, candidates: list[str], seats: int | None) -> None:
    if kind == "motion":
        if candidates or seats:
            raise DomainError("candidates", "a motion has no candidates")
        return
    if not candidates:
        raise DomainError("candidates", "an election has candidates")
    if len(set(candidates)) != len(candidates):
        raise DomainError("candidates", "a candidate is listed once")
    if not seats or seats < 1:
        raise DomainError("seats", "an election fills at least one seat")
    if seats > len(candidates):
        raise DomainError("seats", "more seats than candidates")


def empty_tally(kind: str, candidates: list[str]) -> dict[str, int]:
    return {c: 0 for c in (MOTION_CHOICES if kind == "motion" else [*candidates, BLANK])}


def check_can_open(status: str, present: int, delegates: int) -> None:
    if status != "draft":
        raise StateError("status", f"a ballot that is {status} cannot be opened")
    check_quorum(present, delegates)


def check_can_close(status: str) -> None:
    if status != "open":
        raise StateError("status", f"a ballot that is {status} cannot be closed")


def marks(kind: str, candidates, seats: int | None, choice: str | None, marked: list[str] | None) -> list[str]:
    """The tally counters one ballot increments: a motion's one choice, or an election's marked candidates
    (at most ``seats``, each once; none is a blank ballot)."""
    if kind == "motion":
        if choice not in MOTION_CHOICES or marked:
            raise DomainError("choice", "a motion ballot is yes, no or abstain")
        return [choice]
    if choice is not None or marked is None:
        raise DomainError("candidates", "an election ballot lists the candidates marked (none: a blank ballot)")
    marked = list(marked)
    if len(set(marked)) != len(marked):
        raise DomainError("candidates", "a candidate is marked once")
    if len(marked) > (seats or 0):
        raise DomainError("candidates", f"mark at most {seats} candidates")
    unknown = [m for m in marked if m not in candidates]
    if unknown:
        raise DomainError("candidates", "only the ballot's candidates can be marked")
    return marked or [BLANK]


def check_can_cast(status: str, is_delegate: bool, checked_in: bool, present: int, delegates: int) -> None:
    if status != "open":
        raise StateError("ballot_id", "the ballot is not open")
    if not is_delegate:
        raise StateError("ballot_id", "only the term's delegates vote")
    if not checked_in:
        raise StateError("ballot_id", "check in at the session before voting")
    check_quorum(present, delegates)


def majority_of(delegates: int) -> int:
    """The fewest votes that are more than half of ALL delegates."""
    return delegates // 2 + 1


def result(kind: str, tally: dict[str, int], delegates: int, seats: int | None, cast: int) -> dict:
    """A closed ballot's result. A motion passes only with yes from more than half of ALL the term's
    delegates; a candidate is elected only with more than half of ALL delegates, the most votes first,
    at most ``seats`` of them (a tie for the last seat elects none of the tied: they go to another round)."""
    needed = majority_of(delegates)
    base = {"delegates": delegates, "cast": cast, "needed": needed, "tally": dict(tally)}
    if kind == "motion":
        return {**base, "passed": tally.get("yes", 0) >= needed, "elected": [], "tied": []}
    over = sorted(((n, c) for c, n in tally.items() if c != BLANK and n >= needed), key=lambda x: -x[0])
    elected = [c for n, c in over[:seats]]
    tied = []
    if len(over) > (seats or 0):
        last = over[seats - 1][0]
        if over[seats][0] == last:
            tied = [c for n, c in over if n == last]
            elected = [c for c in elected if c not in tied]
    return {**base, "passed": None, "elected": elected, "tied": tied}
