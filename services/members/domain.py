"""Members domain rules, plain Python: no Flask, no Mongo, no Kafka."""
from __future__ import annotations

import re
from datetime import date

ORG_KINDS = ("federation", "industry", "regional", "grassroots", "sub_union", "group")
GENDERS = ("female", "male")
EMPLOYMENT_TYPES = ("permanent", "contract", "dispatched", "migrant", "rehired", "temporary", "gig")
MEMBER_STATUSES = ("applicant", "active", "suspended", "transferred_out", "left", "deceased")
ORG_STATUSES = ("active", "closed")

# Which kinds of organisation may sit directly below which.
CHILD_KINDS = {
    "federation": {"federation", "industry", "regional", "grassroots"},
    "industry": {"industry", "regional", "grassroots"},
    "regional": {"regional", "industry", "grassroots"},
    "grassroots": {"sub_union", "group"},
    "sub_union": {"sub_union", "group"},
    "group": set(),
}
MEMBER_HOLDING_KINDS = {"grassroots", "sub_union", "group"}


class DomainError(ValueError):
    """A rule refused the request; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def check_placement(kind: str, parent_kind: str | None) -> None:
    if parent_kind is None:
        if kind != "federation":
            raise DomainError("parent_id", "only a federation can stand at the root; give a parent_id")
        return
    if kind not in CHILD_KINDS[parent_kind]:
        allowed = ", ".join(sorted(CHILD_KINDS[parent_kind])) or "nothing"
        raise DomainError("kind", f"a {kind} cannot sit below a {parent_kind} (allowed: {allowed})")


def org_path(parent_path: list[str] | None, org_id: str) -> list[str]:
    """Materialised path: ancestors from the root, then the organisation itself."""
    return [*(parent_path or []), org_id]


def check_can_hold_members(kind: str, status: str) -> None:
    if status != "active":
        raise DomainError("org_id", "the organisation is closed")
    if kind not in MEMBER_HOLDING_KINDS:
        raise DomainError("org_id", "members are registered at a grassroots union, sub-union or union group, "
                                    f"not at a {kind}")


# --- national ID number (GB 11643-1999) -------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


def id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


def normalise_id_number(value: str) -> str:
    return value.strip().upper()


def validate_id_number(value: str, today: date | None = None) -> date:
    """Return the birth date encoded in a valid 18-character ID number."""
    number = normalise_id_number(value)
    if not _ID_SHAPE.match(number):
        raise DomainError("id_number", "must be 18 characters: 17 digits and a check digit or X")
    if id_check_char(number[:17]) != number[17]:
        raise DomainError("id_number", "check digit does not match (GB 11643)")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise DomainError("id_number", "birth date part is not a real date") from exc
    today = today or date.today()
    if birth.year < 1900 or birth > today:
        raise DomainError("id_number", "birth date part is not plausible")
    return birth


def mask_id_number(number: str) -> str:
    return f"{number[:3]}{'*' * (len(number) - 7)}{number[-4:]}"


# --- mobile phone -------------------------------------------------------------

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise_phone(value: str) -> str:
    digits = re.sub(r"[\s-]", "", value.strip())
    return digits[3:] if digits.startswith("+86") else digits


def validate_phone(value: str) -> str:
    phone = normalise_phone(value)
    if not _MOBILE.match(phone):
        raise DomainError("phone", "must be a mainland China mobile number (11 digits starting 13-19)")
    return phone


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


# --- membership card --------------------------------------------------------

def card_number(year: int, sequence: int) -> str:
    """会员证号: GH, the year of issue, an 8-digit federation-wide sequence."""
    return f"GH{year}{sequence:08d}"
