"""Organisations: kinds, the tree, the employer's credit code."""
from __future__ import annotations

import re

from .errors import DomainError, StateError

ORG_KINDS = ("federation", "industry", "regional", "grassroots", "sub_union", "group")
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
CADRE_ROLES = ("chair", "vice_chair", "committee_member", "women_committee", "funds_audit_committee")


def check_placement(kind: str, parent_kind: str | None) -> None:
    if parent_kind is None:
        if kind != "federation":
            raise DomainError("parent_id", "only a federation can stand at the root; give a parent_id")
        return
    if kind not in CHILD_KINDS[parent_kind]:
        allowed = ", ".join(sorted(CHILD_KINDS[parent_kind])) or "nothing"
        # about the organisation referred to as much as the input: a conflict with the tree as it is
        raise StateError("kind", f"a {kind} cannot sit below a {parent_kind} (allowed: {allowed})")


def check_employer_details(kind: str, credit_code: str | None, headcount: int | None) -> None:
    """A grassroots union is set up at an employer: it carries the employer's
    credit code and headcount; other kinds carry neither."""
    if kind == "grassroots":
        if not credit_code:
            raise DomainError("credit_code", "a grassroots union needs its employer's unified social credit code")
        if headcount is None:
            raise DomainError("headcount", "a grassroots union needs its employer's employee headcount")
    elif credit_code is not None or headcount is not None:
        field = "credit_code" if credit_code is not None else "headcount"
        raise DomainError(field, f"only a grassroots union carries an employer's {field}")


def is_current(term_start, term_end, today) -> bool:
    return term_start <= today and (term_end is None or term_end >= today)


def org_path(parent_path: list[str] | None, org_id: str) -> list[str]:
    """Materialised path: ancestors from the root, then the organisation itself."""
    return [*(parent_path or []), org_id]


def check_can_hold_members(kind: str, status: str) -> None:
    if status != "active":
        raise StateError("org_id", "the organisation is closed")
    if kind not in MEMBER_HOLDING_KINDS:
        raise StateError("org_id", "members are registered at a grassroots union, sub-union or union group, "
                                   f"not at a {kind}")


def check_move(org_path: list[str], new_parent_path: list[str], kind: str, new_parent_kind: str) -> None:
    """A subtree may not move below itself, and must fit where it lands."""
    if org_path[-1] in new_parent_path:
        raise StateError("parent_id", "an organisation cannot move below itself or its own descendants")
    check_placement(kind, new_parent_kind)


def moved_path(path: list[str], old_prefix: list[str], new_prefix: list[str]) -> list[str]:
    """The path of something at or below ``old_prefix`` after that node moves to ``new_prefix``."""
    if path[: len(old_prefix)] != old_prefix:
        raise ValueError("path is not inside the moved subtree")
    return [*new_prefix, *path[len(old_prefix):]]


def check_can_close(active_members: int, counted_up_to: int = 100) -> None:
    """``active_members`` is counted up to ``counted_up_to``: beyond that the message says "or more"."""
    if active_members:
        more = " or more" if active_members >= counted_up_to else ""
        raise StateError("status", f"the organisation still has {active_members}{more} active members")


# --- unified social credit code (GB 32100-2015) ------------------------------

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_SHAPE = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$")
# What the API documents (either case; the check character is left to the format "gb32100").
CREDIT_CODE_PATTERN = r"^[0-9A-HJ-NP-RTUW-Ya-hj-np-rtuw-y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Ya-hj-np-rtuw-y]{10}$"


def credit_check_char(first17: str) -> str:
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=False))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """The normalised 统一社会信用代码, or a DomainError naming ``credit_code``."""
    code = value.strip().upper()
    if not _CREDIT_SHAPE.match(code):
        raise DomainError("credit_code", "must be 18 characters: digits and capital letters except I, O, S, V, Z, "
                                         "with a 6-digit administrative division code in positions 3-8")
    if credit_check_char(code[:17]) != code[17]:
        raise DomainError("credit_code", "check character does not match (GB 32100-2015)")
    return code
