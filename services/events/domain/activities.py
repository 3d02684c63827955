"""Activities (活动) and registration (报名): the rules, as plain Python."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.rules import DomainError, StateError

ACTIVITY_KINDS = ("sports_meet", "cultural_show", "skill_competition", "labour_emulation", "training", "lecture",
                  "visit", "festival_gathering", "volunteering")
COMPETITION_KINDS = ("sports_meet", "cultural_show", "skill_competition", "labour_emulation")
ACTIVITY_STATUSES = ("draft", "published", "closed", "ongoing", "finished", "cancelled")
REGISTRATION_STATUSES = ("confirmed", "waitlisted", "cancelled", "removed")
HOLDS_A_PLACE = ("confirmed", "waitlisted")
GENDERS = ("female", "male")
EMPLOYMENT_TYPES = ("permanent", "contract", "dispatched", "migrant", "rehired", "temporary", "gig")
# the honours the members service records (劳模, 技术能手, 先进个人, 优秀工会会员, 三八红旗手)
HONOURS = ("model_worker", "skills_champion", "advanced_individual", "outstanding_union_member",
           "march8_red_banner_pacesetter")

# lifecycle: action -> (states it may start from, state it leads to)
TRANSITIONS = {
    "publish": (("draft",), "published"),
    "close": (("published",), "closed"),
    "start": (("published", "closed"), "ongoing"),
    "finish": (("ongoing",), "finished"),
    "cancel": (("draft", "published", "closed"), "cancelled"),
}
CHECK_IN_OPENS_BEFORE = timedelta(hours=1)  # members arrive early
CHECK_IN_FAILURES_ALLOWED = 5  # wrong codes per registration before only staff can check it in


@dataclass(frozen=True)
class Audience:
    """Who may register: the members of an organisation's subtree, optionally narrowed."""
    org_id: str
    genders: tuple[str, ...] = ()
    employment_types: tuple[str, ...] = ()
    honours: tuple[str, ...] = ()  # any one of them


@dataclass(frozen=True)
class Schedule:
    starts_at: datetime
    ends_at: datetime
    registration_opens_at: datetime
    registration_closes_at: datetime
    cancellation_deadline: datetime


@dataclass
class Eligible:
    """What eligibility looks at in a member (the events service's own read model)."""
    status: str
    kept: bool
    org_path: list[str]
    gender: str | None = None
    employment_type: str | None = None
    honours: list[str] = field(default_factory=list)


def check_schedule(s: Schedule) -> None:
    if s.ends_at <= s.starts_at:
        raise DomainError("ends_at", "an activity ends after it starts")
    if s.registration_closes_at <= s.registration_opens_at:
        raise DomainError("registration_closes_at", "registration closes after it opens")
    if s.registration_closes_at > s.ends_at:
        raise DomainError("registration_closes_at", "registration closes before the activity ends")
    if s.cancellation_deadline > s.starts_at:
        raise DomainError("cancellation_deadline", "cancellations close before the activity starts")


def check_capacity(capacity: int | None) -> None:
    if capacity is not None and capacity < 1:
        raise DomainError("capacity", "capacity is at least 1 (leave it out for no limit)")


def next_status(action: str, status: str) -> str:
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise StateError("status", f"a {status} activity cannot {action}")
    return target


def check_changeable(status: str, changed: set[str]) -> None:
    """A draft changes freely; once published only the audience, capacity and texts may change."""
    if status in ("finished", "cancelled"):
        raise StateError("status", f"a {status} activity does not change")
    if status != "draft":
        fixed = changed - {"audience", "capacity", "description", "venue", "title"}
        if fixed:
            raise StateError(sorted(fixed)[0], f"a {status} activity keeps its schedule and kind")


def outside_audience(member: Eligible, audience: Audience) -> str | None:
    """Why a member is not in an activity's audience, or None."""
    if audience.org_id not in member.org_path:
        return "the member is not in the activity's audience"
    if audience.genders and member.gender not in audience.genders:
        return "the activity is for members of another gender"
    if audience.employment_types and member.employment_type not in audience.employment_types:
        return "the activity is for members of other employment types"
    if audience.honours and not set(audience.honours) & set(member.honours or ()):
        return "the activity is for members holding an honour the member does not hold"
    return None


def ineligibility(member: Eligible, audience: Audience) -> str | None:
    """Why a member may not register for an activity with this audience, or None."""
    if member.status != "active":
        return "only active members register"
    if member.kept:
        return "a kept membership (保留会籍) does not register for activities"
    return outside_audience(member, audience)


def check_eligible(member: Eligible, audience: Audience) -> None:
    reason = ineligibility(member, audience)
    if reason:
        raise DomainError("member_id", reason)


def check_registration_open(status: str, schedule: Schedule, now: datetime) -> None:
    if status != "published":
        raise StateError("activity_id", "the activity does not take registrations now")
    if now < schedule.registration_opens_at:
        raise StateError("activity_id", "registration has not opened yet")
    if now >= schedule.registration_closes_at:
        raise StateError("activity_id", "registration has closed")


def check_cancellation(registration_status: str, activity_status: str, schedule: Schedule, now: datetime,
                       by_staff: bool) -> None:
    """A member cancels its own place before the deadline; staff remove one until the activity ends."""
    if registration_status not in HOLDS_A_PLACE:
        raise StateError("status", f"the registration is already {registration_status}")
    if activity_status in ("finished", "cancelled"):
        raise StateError("activity_id", f"the activity is {activity_status}")
    if not by_staff and now >= schedule.cancellation_deadline:
        raise StateError("activity_id", "the cancellation deadline has passed; ask the organiser")


def check_check_in(registration_status: str, checked_in: bool, activity_status: str, schedule: Schedule,
                   now: datetime) -> None:
    if registration_status != "confirmed":
        raise StateError("status", "only a confirmed registration checks in")
    if checked_in:
        raise StateError("status", "already checked in")
    if activity_status not in ("published", "closed", "ongoing"):
        raise StateError("activity_id", f"the activity is {activity_status}")
    if not schedule.starts_at - CHECK_IN_OPENS_BEFORE <= now <= schedule.ends_at:
        raise StateError("activity_id", "check-in is open from an hour before the start until the end")


def check_results(kind: str, activity_status: str) -> None:
    if kind not in COMPETITION_KINDS:
        raise StateError("activity_id", "only competitions record scores, ranks and awards")
    if activity_status not in ("ongoing", "finished"):
        raise StateError("activity_id", "results are recorded once the competition is under way")
