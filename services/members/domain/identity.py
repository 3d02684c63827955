"""Personal identifiers: national ID numbers (GB 11643) and mobile phones."""
from __future__ import annotations

import re
from datetime import date

from .errors import DomainError

# --- national ID number (GB 11643-1999) -------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


# What the API documents (JSON Schema, before normalising): the shape, with the check character and a
# plausible birth date left to the format "gb11643".
ID_NUMBER_PATTERN = r"^[0-9]{17}[0-9Xx]$"


def id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=False)) % 11]


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
    """Only the last four characters (sequence code and check digit). With the birth year and gender,
    which are kept in clear, this still leaves the region (thousands of codes) and the day of birth
    open: about a million candidates, against about 91 when the region's first digits and the birth
    date were both readable."""
    return f"{'*' * (len(number) - 4)}{number[-4:]}"


# --- mobile phone -------------------------------------------------------------

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# What the API documents: the number with an optional +86 (spaces and dashes are tolerated too).
PHONE_PATTERN = r"^(?:\+86)?1[3-9][0-9]{9}$"


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
