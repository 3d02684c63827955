"""The events service's rules: plain Python, no framework, no database."""
from shared.rules import DomainError, StateError

from .activities import (
    ACTIVITY_KINDS,
    ACTIVITY_STATUSES,
    CHECK_IN_FAILURES_ALLOWED,
    COMPETITION_KINDS,
    EMPLOYMENT_TYPES,
    GENDERS,
    HOLDS_A_PLACE,
    HONOURS,
    REGISTRATION_STATUSES,
    TRANSITIONS,
    Audience,
    Eligible,
    Schedule,
    check_cancellation,
    check_capacity,
    check_changeable,
    check_check_in,
    check_eligible,
    check_registration_open,
    check_results,
    check_schedule,
    ineligibility,
    next_status,
    outside_audience,
)

__all__ = [
    "ACTIVITY_KINDS", "ACTIVITY_STATUSES", "CHECK_IN_FAILURES_ALLOWED", "COMPETITION_KINDS", "EMPLOYMENT_TYPES",
    "GENDERS", "HOLDS_A_PLACE", "HONOURS", "REGISTRATION_STATUSES", "TRANSITIONS", "Audience", "DomainError",
    "Eligible", "Schedule", "StateError", "check_cancellation", "check_capacity", "check_changeable",
    "check_check_in", "check_eligible", "check_registration_open", "check_results", "check_schedule",
    "ineligibility", "next_status", "outside_audience",
]
from .congress import *  # noqa: E402,F401,F403
