"""Reminders 24 hours and 1 hour before an activity, to each member still holding a place, through the
channels it chose; a cancelled registration or activity gets none; each reminder once, even when the
worker stops half-way and starts again."""
from __future__ import annotations

from datetime import timedelta

import pytest
from bson import ObjectId

from services.notify.app.reminders import _tell, remind
from services.notify.consumed import HANDLERS
from services.notify.documents import ALL, ActivityView, Contact, Delivery, InboxMessage, Preference
from services.notify.domain.templates import REMINDERS, SHANGHAI
from services.notify.keys import pii_vault
from shared import db
from shared.events.envelope import isoformat, utcnow
from tests.integration import notify_seed as seed

pytestmark = pytest.mark.integration
E = "gonghui.events."
REMINDER_TYPES = sorted(REMINDERS)


@pytest.fixture
def settings(settings_for):
    settings = settings_for("notify")
    db.connect(settings)
    db.ensure_indexes(ALL)
    return settings


def _feed(event):
    handler = HANDLERS[event.type]
    handler.many([event]) if hasattr(handler, "many") else handler(event)


def _activity(starts_at, members, registrations=None):
    """An activity published, and a registration of each member in the given status (``registrations``
    collects their ids)."""
    activity_id = str(ObjectId())
    _feed(seed.event(E + "activity.published", activity_id=activity_id, title="职工乒乓球赛",
                     starts_at=isoformat(starts_at), venue="市职工活动中心"))
    for n, (member_id, status) in enumerate(members.items()):
        registration_id = (registrations if registrations is not None else {}).setdefault(member_id, str(ObjectId()))
        _feed(seed.event(E + f"registration.{status}", registration_id=registration_id, activity_id=activity_id,
                         member_id=member_id, title="职工乒乓球赛", starts_at=isoformat(starts_at),
                         venue="市职工活动中心", status=status, ticket=n + 1, version=1))
    return activity_id


def _reminders(member_id) -> list[str]:
    return [m.title for m in InboxMessage.objects(member_id=member_id, category="activities").order_by("id")
            if "提醒" in m.title or "即将开始" in m.title]


def test_reminders_reach_those_with_a_place_24_hours_and_1_hour_before_once_each(settings):
    ids = seed.orgs()
    path = [ids["fed"], ids["a"]]
    going, waiting, texted = seed.recipient(path, "王芳"), seed.recipient(path, "李雷"), seed.recipient(path, "赵敏")
    Contact(id=texted, phone_encrypted=pii_vault(settings).encrypt("13800000009"), version=1).save()
    Preference(id=texted, channels={"activities": {"sms": True}}, quiet_start="00:00", quiet_end="00:00").save()
    starts = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    activity = _activity(starts, {going: "confirmed", waiting: "waitlisted", texted: "confirmed"})
    view = ActivityView.objects.get(pk=activity)
    assert abs(view.next_reminder_at.replace(tzinfo=None) - (starts - timedelta(hours=24)).replace(tzinfo=None)) \
        < timedelta(seconds=1)

    assert remind(now=starts - timedelta(hours=30)) == 0
    assert remind(now=starts - timedelta(hours=23)) == 1
    assert remind(now=starts - timedelta(hours=22)) == 0  # once
    assert _reminders(going) == ["活动提醒：职工乒乓球赛明天举行"] and _reminders(waiting) == []
    [sms] = Delivery.objects(member_id=texted, event_type__in=REMINDER_TYPES)
    assert sms.channel == "sms" and sms.body.startswith("【工会】提醒") and "市职工活动中心" in sms.body
    body = InboxMessage.objects.get(member_id=going, title="活动提醒：职工乒乓球赛明天举行").body
    assert "王芳，您好！" in body and "市职工活动中心" in body

    assert remind(now=starts - timedelta(minutes=50)) == 1
    assert remind(now=starts - timedelta(minutes=10)) == 0
    assert _reminders(going) == ["活动提醒：职工乒乓球赛明天举行", "活动即将开始：职工乒乓球赛"]
    assert Delivery.objects(member_id=texted, event_type__in=REMINDER_TYPES).count() == 2
    assert ActivityView.objects.get(pk=activity).next_reminder_at is None
    assert remind(now=starts + timedelta(hours=1)) == 0


def test_a_late_worker_skips_the_stale_reminder_and_a_cancellation_stops_them(settings):
    ids = seed.orgs()
    path = [ids["fed"], ids["a"]]
    member, quitter = seed.recipient(path, "孙丽"), seed.recipient(path, "周杰")
    starts = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    registrations = {}
    late = _activity(starts, {member: "confirmed", quitter: "confirmed"}, registrations)
    _feed(seed.event(E + "registration.cancelled", registration_id=registrations[quitter], activity_id=late,
                     member_id=quitter, title="职工乒乓球赛", starts_at=isoformat(starts), venue="市职工活动中心",
                     status="cancelled", version=2))
    assert remind(now=starts - timedelta(minutes=30)) == 1  # down until then: only the 1-hour reminder
    assert _reminders(member) == ["活动即将开始：职工乒乓球赛"]
    assert _reminders(quitter) == []

    cancelled = _activity(starts, {member: "confirmed"})
    _feed(seed.event(E + "activity.cancelled", activity_id=cancelled, title="职工乒乓球赛", starts_at=isoformat(starts),
                     venue="市职工活动中心", reason="场地维修"))
    assert remind(now=starts - timedelta(hours=20)) == 0
    assert ActivityView.objects.get(pk=cancelled).next_reminder_at is None


def test_a_worker_stopped_half_way_tells_the_rest_after_a_restart_and_nobody_twice(settings):
    ids = seed.orgs()
    people = seed.recipients([ids["fed"], ids["a"]], 30)
    starts = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    activity = _activity(starts, dict.fromkeys(people, "confirmed"))
    _tell(ActivityView._get_collection().find_one({"_id": activity}), "24h")  # told everyone, then died
    InboxMessage.objects(member_id__in=people[:10], title="活动提醒：职工乒乓球赛明天举行").delete()  # ... or only a third
    assert remind(now=starts - timedelta(hours=23)) == 1  # after the restart
    for member_id in people:
        assert _reminders(member_id) == ["活动提醒：职工乒乓球赛明天举行"]


def test_an_sms_reminder_the_quiet_hours_would_hold_past_the_start_is_not_sent_but_the_inbox_has_it(settings):
    ids = seed.orgs()
    night_owl = seed.recipient([ids["fed"], ids["a"]], "钱进")
    starts = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    late = starts - timedelta(minutes=30)
    quiet = ((late - timedelta(hours=1)).astimezone(SHANGHAI).strftime("%H:%M"),
             (starts + timedelta(hours=1)).astimezone(SHANGHAI).strftime("%H:%M"))
    Contact(id=night_owl, phone_encrypted=pii_vault(settings).encrypt("13800000010"), version=1).save()
    Preference(id=night_owl, channels={"activities": {"sms": True}}, quiet_start=quiet[0], quiet_end=quiet[1]).save()
    _activity(starts, {night_owl: "confirmed"})
    assert remind(now=starts - timedelta(hours=23)) == 1  # outside the quiet hours: by SMS too
    assert remind(now=late) == 1
    assert _reminders(night_owl) == ["活动提醒：职工乒乓球赛明天举行", "活动即将开始：职工乒乓球赛"]
    reminders = Delivery.objects(member_id=night_owl, event_type__in=REMINDER_TYPES)
    assert [d.event_type for d in reminders] == ["gonghui.notify.reminder.24h"]
