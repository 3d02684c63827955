"""Members domain rules, plain Python: no Flask, no Mongo, no Kafka."""
from .calendar import UNION_TIME, month_of
from .dues import add_months, dues_base, monthly_dues, months_between, parse_month
from .errors import DomainError, StateError
from .identity import (
                       ID_NUMBER_PATTERN,
                       PHONE_PATTERN,
                       id_check_char,
                       mask_id_number,
                       mask_phone,
                       normalise_id_number,
                       normalise_phone,
                       validate_id_number,
                       validate_phone,
)
from .membership import (
                       AGE_BANDS,
                       EMPLOYMENT_TYPES,
                       GENDERS,
                       HONOURS,
                       KEPT_REASONS,
                       LEAVE_REASONS,
                       MEMBER_STATUSES,
                       TRANSITIONS,
                       age_band,
                       card_number,
                       may_vote,
                       next_status,
)
from .orgs import (
                       CADRE_ROLES,
                       CHILD_KINDS,
                       CREDIT_CODE_PATTERN,
                       MEMBER_HOLDING_KINDS,
                       ORG_KINDS,
                       ORG_STATUSES,
                       check_can_close,
                       check_can_hold_members,
                       check_employer_details,
                       check_move,
                       check_placement,
                       credit_check_char,
                       is_current,
                       moved_path,
                       org_path,
                       validate_credit_code,
)
from .review import needs_education_review, window_before
from .roster import RosterRow, column_map, parse_row
from .transfers import TRANSFER_STATUSES, check_decision, check_request, expires_at

__all__ = [
    "UNION_TIME", "month_of", "ID_NUMBER_PATTERN", "PHONE_PATTERN", "CREDIT_CODE_PATTERN",
    "HONOURS",
    "RosterRow", "column_map", "parse_row",
    "AGE_BANDS",
    "TRANSFER_STATUSES", "check_decision", "check_request", "expires_at",
    "CADRE_ROLES", "check_employer_details", "is_current", "CHILD_KINDS", "EMPLOYMENT_TYPES", "GENDERS",
    "KEPT_REASONS", "LEAVE_REASONS", "MEMBER_HOLDING_KINDS",
    "MEMBER_STATUSES", "ORG_KINDS", "ORG_STATUSES", "TRANSITIONS", "DomainError", "StateError", "add_months", "age_band",
    "card_number", "check_can_close", "check_can_hold_members", "check_move", "check_placement",
    "credit_check_char", "dues_base", "id_check_char", "mask_id_number", "mask_phone", "may_vote",
    "monthly_dues", "months_between", "moved_path", "needs_education_review", "next_status",
    "normalise_id_number", "normalise_phone", "org_path", "parse_month", "validate_credit_code",
    "validate_id_number", "validate_phone", "window_before",
]
