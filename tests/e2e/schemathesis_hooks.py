"""Loaded by schemathesis (SCHEMATHESIS_HOOKS) in tests/e2e/test_schemathesis.py: how to make values
of the two formats the members API documents but JSON Schema cannot spell out, built from the
domain's own check-character rules."""
from __future__ import annotations

from datetime import date, timedelta

import schemathesis
from hypothesis import strategies as st

from services.members.domain import credit_check_char, id_check_char

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@st.composite
def _id_number(draw) -> str:
    """GB 11643: region, a birth date (1940 to 18 years ago), sequence, check character."""
    birth = date(1940, 1, 1) + timedelta(days=draw(st.integers(0, 365 * 66)))
    first17 = draw(st.from_regex(r"\A[1-6][0-9]{5}\Z")) + birth.strftime("%Y%m%d") + draw(
        st.from_regex(r"\A[0-9]{3}\Z"))
    return first17 + id_check_char(first17)


@st.composite
def _credit_code(draw) -> str:
    """GB 32100-2015: two register characters, an administrative division, nine more, check character."""
    chars = st.sampled_from(_CREDIT_CHARS)
    first17 = "".join(draw(st.lists(chars, min_size=2, max_size=2))) + draw(
        st.from_regex(r"\A[1-6][0-9]{5}\Z")) + "".join(draw(st.lists(chars, min_size=9, max_size=9)))
    return first17 + credit_check_char(first17)


schemathesis.openapi.format("gb11643", _id_number())
schemathesis.openapi.format("gb32100", _credit_code())
