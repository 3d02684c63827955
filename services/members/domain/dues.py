"""Dues (会费): 0.5% of the monthly wage, integer fen, the constitution's rules.

Only the wage counts (bonuses, allowances and subsidies are not part of the
base, so callers pass the wage alone), and the part of it below 10 yuan is
not counted: 5,678.90 yuan gives a base of 5,670 yuan and dues of 28.35 yuan.
"""
from __future__ import annotations

import re

from .errors import DomainError

FEN_PER_YUAN = 100
UNCOUNTED_BELOW_FEN = 10 * FEN_PER_YUAN  # the part of the wage under 10 yuan
RATE_PER_MILLE = 5  # 0.5%

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def dues_base(wage_fen: int) -> int:
    if wage_fen < 0:
        raise DomainError("wage_fen", "cannot be negative")
    return wage_fen - wage_fen % UNCOUNTED_BELOW_FEN


def monthly_dues(wage_fen: int) -> int:
    """Dues in fen; exact, since the base is a whole number of 10 yuan."""
    return dues_base(wage_fen) * RATE_PER_MILLE // 1000


def parse_month(value: str, field: str = "month") -> tuple[int, int]:
    match = _MONTH.match(value or "")
    if not match:
        raise DomainError(field, "must be a month as YYYY-MM")
    return int(match.group(1)), int(match.group(2))


def month_str(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def add_months(month: str, delta: int) -> str:
    year, mon = parse_month(month)
    index = year * 12 + (mon - 1) + delta
    return month_str(index // 12, index % 12 + 1)


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` inclusive."""
    out, current = [], first
    while current <= last:
        out.append(current)
        current = add_months(current, 1)
    return out
