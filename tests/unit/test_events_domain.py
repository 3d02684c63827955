"""The events service's activity rules, without I/O."""
from datetime import datetime, timedelta, timezone

import pytest

from services.events import domain

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
SCHEDULE = domain.Schedule(starts_at=NOW + timedelta(days=5), ends_at=NOW + timedelta(days=5, hours=8),
                           registration_opens_at=NOW - timedelta(days=1), registration_closes_at=NOW + timedelta(days=3),
                           cancellation_deadline=NOW + timedelta(days=4))


def member(**overrides):
    return domain.Eligible(**{"status": "active", "kept": False, "org_path": ["fed", "a"], "gender": "female",
                              "employment_type": "migrant", "honours": [], **overrides})


def test_a_schedule_runs_forward():
    domain.check_schedule(SCHEDULE)
    for field, value in [("ends_at", SCHEDULE.starts_at), ("registration_closes_at", SCHEDULE.registration_opens_at),
                         ("registration_closes_at", SCHEDULE.ends_at + timedelta(hours=1)),
                         ("cancellation_deadline", SCHEDULE.starts_at + timedelta(minutes=1))]:
        with pytest.raises(domain.DomainError) as refused:
            domain.check_schedule(domain.Schedule(**{**SCHEDULE.__dict__, field: value}))
        assert refused.value.field == field


def test_the_lifecycle_moves_one_way():
    assert domain.next_status("publish", "draft") == "published"
    assert domain.next_status("start", "closed") == "ongoing"
    assert domain.next_status("finish", "ongoing") == "finished"
    for action, status in [("publish", "published"), ("finish", "published"), ("cancel", "ongoing"),
                           ("cancel", "finished"), ("start", "cancelled")]:
        with pytest.raises(domain.StateError):
            domain.next_status(action, status)


def test_a_published_activity_keeps_its_schedule_but_not_its_audience_or_capacity():
    domain.check_changeable("draft", {"starts_at", "kind"})
    domain.check_changeable("published", {"audience", "capacity", "title"})
    with pytest.raises(domain.StateError):
        domain.check_changeable("published", {"starts_at"})
    with pytest.raises(domain.StateError):
        domain.check_changeable("finished", {"title"})


def test_eligibility_is_active_not_kept_and_in_the_narrowed_audience():
    audience = domain.Audience("a", genders=("female",), employment_types=("migrant", "gig"))
    assert domain.ineligibility(member(), audience) is None
    assert "active" in domain.ineligibility(member(status="suspended"), audience)
    assert "kept" in domain.ineligibility(member(kept=True), audience)
    assert "audience" in domain.ineligibility(member(org_path=["fed", "b"]), audience)
    assert "gender" in domain.ineligibility(member(gender="male"), audience)
    assert "employment" in domain.ineligibility(member(employment_type="permanent"), audience)
    honoured = domain.Audience("fed", honours=("model_worker", "skills_champion"))
    assert "honour" in domain.ineligibility(member(), honoured)
    assert domain.ineligibility(member(honours=["skills_champion"]), honoured) is None


def test_registration_only_inside_the_window_of_a_published_activity():
    domain.check_registration_open("published", SCHEDULE, NOW)
    with pytest.raises(domain.StateError):
        domain.check_registration_open("draft", SCHEDULE, NOW)
    with pytest.raises(domain.StateError):
        domain.check_registration_open("published", SCHEDULE, SCHEDULE.registration_opens_at - timedelta(seconds=1))
    with pytest.raises(domain.StateError):
        domain.check_registration_open("published", SCHEDULE, SCHEDULE.registration_closes_at)


def test_members_cancel_before_the_deadline_staff_until_the_end():
    late = SCHEDULE.cancellation_deadline + timedelta(minutes=1)
    domain.check_cancellation("confirmed", "published", SCHEDULE, NOW, by_staff=False)
    with pytest.raises(domain.StateError):
        domain.check_cancellation("confirmed", "closed", SCHEDULE, late, by_staff=False)
    domain.check_cancellation("waitlisted", "ongoing", SCHEDULE, late, by_staff=True)
    with pytest.raises(domain.StateError):
        domain.check_cancellation("cancelled", "published", SCHEDULE, NOW, by_staff=True)
    with pytest.raises(domain.StateError):
        domain.check_cancellation("confirmed", "finished", SCHEDULE, NOW, by_staff=True)


def test_check_in_only_confirmed_once_around_the_activity_hours():
    during = SCHEDULE.starts_at + timedelta(hours=1)
    domain.check_check_in("confirmed", False, "ongoing", SCHEDULE, during)
    domain.check_check_in("confirmed", False, "closed", SCHEDULE, SCHEDULE.starts_at - timedelta(minutes=59))
    for args in [("waitlisted", False, "ongoing", SCHEDULE, during), ("confirmed", True, "ongoing", SCHEDULE, during),
                 ("confirmed", False, "finished", SCHEDULE, during),
                 ("confirmed", False, "ongoing", SCHEDULE, SCHEDULE.starts_at - timedelta(hours=2)),
                 ("confirmed", False, "ongoing", SCHEDULE, SCHEDULE.ends_at + timedelta(minutes=1))]:
        with pytest.raises(domain.StateError):
            domain.check_check_in(*args)


def test_only_competitions_under_way_record_results():
    domain.check_results("skill_competition", "finished")
    with pytest.raises(domain.StateError):
        domain.check_results("lecture", "finished")
    with pytest.raises(domain.StateError):
        domain.check_results("sports_meet", "published")
