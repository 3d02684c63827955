"""The rules of condolences and mutual medical aid, without a database."""
from __future__ import annotations

from datetime import date

import pytest

from services.welfare.domain import condolences, mutual_aid
from shared.rules import DomainError, StateError

pytestmark = pytest.mark.unit


def test_a_campaign_s_source_and_the_spring_festival_rule():
    condolences.check_source("summer_cooling", "members", ["front_line"])
    condolences.check_source("spring_festival_warmth", "hardship", [])
    with pytest.raises(DomainError):
        condolences.check_source("spring_festival_warmth", "members", [])
    with pytest.raises(DomainError):
        condolences.check_source("other", "hardship", ["front_line"])


def test_a_visit_is_recorded_once_while_open_and_within_the_per_head_amount():
    condolences.check_open("open")
    condolences.check_visit("pending")
    condolences.check_visit_amount(50_000, 50_000)
    with pytest.raises(StateError):
        condolences.check_open("generating")
    with pytest.raises(StateError):
        condolences.check_visit("visited")
    with pytest.raises(DomainError):
        condolences.check_visit_amount(50_001, 50_000)


def test_one_payment_per_member_and_event():
    day = date(2026, 5, 1)
    assert condolences.life_event_key("m", "childbirth", day) == "m:childbirth:2026-05-01"
    assert condolences.life_event_key("m", "childbirth", day) != condolences.life_event_key("m", "childbirth",
                                                                                             date(2027, 5, 1))
    assert condolences.life_event_key("m", "retirement", day) == condolences.life_event_key("m", "retirement",
                                                                                             date(2030, 1, 1))


def test_the_schedule_pays_its_amount_or_refuses_what_it_does_not_pay():
    schedule = condolences.Schedule({**condolences.DEFAULT_SCHEDULE, "marriage": 0, "childbirth": 80_000})
    assert condolences.check_life_event_amount("childbirth", schedule) == 80_000
    assert condolences.check_life_event_amount("retirement", schedule) == condolences.DEFAULT_SCHEDULE["retirement"]
    with pytest.raises(DomainError):
        condolences.check_life_event_amount("marriage", schedule)
    with pytest.raises(DomainError):
        condolences.check_occurred(date(2026, 5, 2), date(2026, 5, 1))


def test_reimbursement_is_the_rate_above_the_deductible_within_the_cap():
    scheme = mutual_aid.Scheme(rate_percent=60, deductible_fen=100_000, cap_fen=1_000_000, contribution_fen=5_000)
    assert mutual_aid.reimbursement(600_000, scheme) == 300_000
    assert mutual_aid.reimbursement(100_000, scheme) == 0
    assert mutual_aid.reimbursement(100_003, scheme) == 1  # rounded down
    assert mutual_aid.claim_amount(600_000, scheme, 1_000_000) == 300_000
    assert mutual_aid.claim_amount(600_000, scheme, 120_000) == 120_000
    with pytest.raises(DomainError):
        mutual_aid.claim_amount(90_000, scheme, 1_000_000)
    with pytest.raises(StateError):
        mutual_aid.claim_amount(600_000, scheme, 0)
    with pytest.raises(DomainError):
        mutual_aid.check_scheme(mutual_aid.Scheme(rate_percent=0))
    with pytest.raises(DomainError):
        mutual_aid.check_stay(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(StateError):
        mutual_aid.check_enrollee("suspended")
