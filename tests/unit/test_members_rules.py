"""Credit codes, the tree, status changes, dues arithmetic, the six-month rule."""
from datetime import date

import pytest

from services.members import domain

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91440300708461136T", " 91350100m000100y43 "])
def test_valid_credit_codes(code):
    assert domain.validate_credit_code(code) == code.strip().upper()


@pytest.mark.parametrize("code,reason", [
    ("91350100M000100Y44", "check character"),
    ("91350100M000100Y4", "18 characters"),
    ("9135010OM000100Y43", "18 characters"),   # letter O is not allowed
    ("91A50100M000100Y43", "18 characters"),   # division code must be digits
])
def test_invalid_credit_codes_name_the_field(code, reason):
    with pytest.raises(domain.DomainError) as err:
        domain.validate_credit_code(code)
    assert err.value.field == "credit_code" and reason in err.value.message


def test_every_check_character_is_reachable_and_round_trips():
    body = "91350100M000100Y4"
    assert domain.validate_credit_code(body + domain.credit_check_char(body))


def test_a_subtree_cannot_move_below_itself():
    with pytest.raises(domain.DomainError) as err:
        domain.check_move(["f", "a"], ["f", "a", "b"], "grassroots", "sub_union")
    assert err.value.field == "parent_id"
    domain.check_move(["f", "i1", "a"], ["f", "i2"], "grassroots", "industry")


def test_moved_paths_keep_what_lies_below():
    assert domain.moved_path(["f", "i1", "a", "g"], ["f", "i1", "a"], ["f", "i2", "a"]) == ["f", "i2", "a", "g"]
    with pytest.raises(ValueError):
        domain.moved_path(["f", "x"], ["f", "i1"], ["f", "i2"])


def test_closing_needs_no_active_members():
    domain.check_can_close(0)
    with pytest.raises(domain.DomainError):
        domain.check_can_close(3)


@pytest.mark.parametrize("action,current,target", [
    ("approve", "applicant", "active"), ("suspend", "active", "suspended"), ("resume", "suspended", "active"),
    ("leave", "active", "left"), ("leave", "suspended", "left"), ("keep", "active", "active"),
    ("deceased", "active", "deceased"),
])
def test_allowed_status_changes(action, current, target):
    assert domain.next_status(action, current) == target


@pytest.mark.parametrize("action,current", [
    ("approve", "active"), ("suspend", "left"), ("resume", "active"), ("leave", "deceased"),
    ("deceased", "left"), ("fly", "active"),
])
def test_refused_status_changes(action, current):
    with pytest.raises(domain.DomainError) as err:
        domain.next_status(action, current)
    assert err.value.field == "action"


def test_kept_membership_cannot_vote_and_is_not_kept_twice():
    assert domain.may_vote("active", kept=False)
    assert not domain.may_vote("active", kept=True)
    with pytest.raises(domain.DomainError):
        domain.next_status("keep", "active", kept=True)


@pytest.mark.parametrize("wage_fen,base,dues", [
    (567890, 567000, 2835),     # 5,678.90 yuan: the 8.90 under 10 yuan is not counted
    (500000, 500000, 2500),
    (999, 0, 0),                # under 10 yuan: nothing counted
    (1000, 1000, 5),
    (0, 0, 0),
    (12345678, 12345000, 61725),
])
def test_dues_are_half_a_percent_of_the_counted_wage_in_fen(wage_fen, base, dues):
    assert domain.dues_base(wage_fen) == base
    assert domain.monthly_dues(wage_fen) == dues
    assert isinstance(domain.monthly_dues(wage_fen), int)


def test_negative_wages_are_refused():
    with pytest.raises(domain.DomainError):
        domain.monthly_dues(-1)


def test_months():
    assert domain.add_months("2026-01", -1) == "2025-12"
    assert domain.add_months("2025-11", 3) == "2026-02"
    assert domain.months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert domain.window_before("2026-07") == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    with pytest.raises(domain.DomainError):
        domain.parse_month("2026-13")


SIX = set(domain.window_before("2026-07"))


def test_six_months_without_dues_and_without_union_life_opens_a_review():
    assert domain.needs_education_review("active", False, "2024-01", set(), set(), "2026-07")


@pytest.mark.parametrize("paid,active", [({"2026-03"}, set()), (set(), {"2026-06"}), ({"2026-01"}, {"2026-01"})])
def test_any_dues_or_any_participation_in_the_window_means_no_review(paid, active):
    assert not domain.needs_education_review("active", False, "2024-01", paid, active, "2026-07")


def test_missed_dues_alone_never_flag_a_member_who_takes_part():
    assert not domain.needs_education_review("active", False, "2024-01", set(), {"2026-04"}, "2026-07")


@pytest.mark.parametrize("status,kept,joined", [("active", True, "2024-01"), ("suspended", False, "2024-01"),
                                                ("left", False, "2024-01"), ("active", False, "2026-03")])
def test_kept_inactive_and_recent_members_are_never_flagged(status, kept, joined):
    assert not domain.needs_education_review(status, kept, joined, set(), set(), "2026-07")


def test_age_bands():
    assert domain.age_band(date(2000, 6, 1), date(2026, 5, 31)) == "25_34"
    assert domain.age_band(date(2000, 6, 1), date(2024, 6, 2)) == "under_25"
    assert domain.age_band(date(1960, 1, 1), date(2026, 1, 1)) == "55_plus"


def test_a_moment_belongs_to_its_month_in_beijing_time():
    from datetime import datetime, timedelta, timezone

    assert domain.month_of(datetime(2026, 2, 28, 23, 30, tzinfo=timezone.utc)) == "2026-03"  # 07:30 on 1 March
    assert domain.month_of(datetime(2026, 3, 1, 7, 0, tzinfo=timezone(timedelta(hours=8)))) == "2026-03"
    assert domain.month_of(datetime(2026, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=-5)))) == "2026-03"
    assert domain.month_of(datetime(2026, 2, 28, 15, 59)) == "2026-02"  # naive is UTC: 23:59 in Beijing
    assert domain.month_of(datetime(2026, 2, 28, 16, 0)) == "2026-03"
