"""notify's timing rules without I/O: quiet hours delay to their end, retries back off exponentially then
stop, reminders go 24 h and 1 h before an activity and skip a stale stage."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from services.notify.domain.deliveries import retry_at
from services.notify.domain.preferences import not_before
from services.notify.domain.reminders import due_stage, next_reminder_at
from services.notify.domain.templates import REMINDERS, announcement, render

pytestmark = pytest.mark.unit
UTC = timezone.utc


@pytest.mark.parametrize("utc_hour, expected", [
    (13, datetime(2026, 11, 23, 13, 30, tzinfo=UTC)),  # 21:30 in Shanghai: at once
    (14, datetime(2026, 11, 23, 23, 0, tzinfo=UTC)),  # 22:30: at 07:00 next morning (23:00 UTC)
    (20, datetime(2026, 11, 23, 23, 0, tzinfo=UTC)),  # 04:30: at 07:00 the same morning
    (23, datetime(2026, 11, 23, 23, 30, tzinfo=UTC)),  # 07:30: at once
])
def test_quiet_hours_delay_to_their_end_in_shanghai(utc_hour, expected):
    assert not_before(datetime(2026, 11, 23, utc_hour, 30, tzinfo=UTC)) == expected


def test_quiet_hours_of_a_members_own_choice_and_none_when_start_equals_end():
    noon = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)  # 12:30 in Shanghai
    assert not_before(noon, "12:00", "14:00") == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    assert not_before(noon, "00:00", "00:00") == noon


def test_retries_back_off_exponentially_then_stop():
    now = datetime(2026, 11, 23, tzinfo=UTC)
    steady = random.Random(0)
    delays = [(retry_at(now, n, 6, 30.0, jitter=0, rng=steady) - now).total_seconds() for n in range(1, 6)]
    assert delays == [30, 60, 120, 240, 480]
    assert retry_at(now, 6, 6, 30.0) is None
    spread = {(retry_at(now, 1, 6, 30.0, rng=random.Random(seed)) - now).total_seconds() for seed in range(50)}
    assert min(spread) >= 24 and max(spread) <= 36 and len(spread) > 10  # ± 20 %, not all in step


def test_reminders_24_hours_and_1_hour_before_skipping_a_stale_one():
    starts = datetime(2026, 12, 5, 6, tzinfo=UTC)
    assert next_reminder_at(starts) == starts - timedelta(hours=24)
    assert due_stage(starts, starts - timedelta(hours=25)) is None
    assert due_stage(starts, starts - timedelta(hours=23)) == "24h"
    assert due_stage(starts, starts - timedelta(hours=23), ["24h"]) is None
    assert next_reminder_at(starts, ["24h"]) == starts - timedelta(hours=1)
    assert due_stage(starts, starts - timedelta(minutes=30), ["24h"]) == "1h"
    assert due_stage(starts, starts - timedelta(minutes=30)) == "1h"  # the 24-hour one is stale by now
    assert next_reminder_at(starts, ["1h"]) is None
    assert due_stage(starts, starts + timedelta(minutes=1)) is None


def test_reminder_and_announcement_texts_fit_their_channels():
    data = {"title": "职工乒乓球赛", "starts_at": "2026-12-05T06:00:00Z", "venue": "市职工活动中心"}
    inbox = render(REMINDERS["gonghui.notify.reminder.24h"], "inbox", data, extra={"name": "王芳"})
    assert inbox.title == "活动提醒：职工乒乓球赛明天举行" and "2026年12月5日 14:00" in inbox.body
    sms = render(REMINDERS["gonghui.notify.reminder.1h"], "sms", data)
    assert sms.body.startswith("【工会】") and len(sms.body) <= 70
    long = "公示内容" * 2000
    assert len(announcement("factory_affairs", "2026年度厂务公开", long, "sms").body) <= 70
    email = announcement("factory_affairs", "2026年度厂务公开", long, "email")
    assert email.title == "【厂务公开】2026年度厂务公开" and email.body.startswith(long)
