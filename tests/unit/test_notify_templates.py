from datetime import datetime, timezone

import pytest

from services.events import published as events_published
from services.members import published as members_published
from services.notify import domain
from services.notify.domain import preferences, templates
from services.welfare import published as welfare_published
from shared.rules import DomainError

pytestmark = pytest.mark.unit

PRODUCED = {t.name: t for t in events_published.ALL + welfare_published.ALL + members_published.ALL}


def test_every_template_is_for_a_type_a_producer_publishes():
    assert set(templates.TEMPLATES) <= set(PRODUCED)


@pytest.mark.parametrize("event_type", sorted(templates.TEMPLATES))
@pytest.mark.parametrize("channel", templates.CHANNELS)
@pytest.mark.parametrize("language", templates.LANGUAGES)
def test_every_template_fills_from_the_producer_examples_on_every_channel(event_type, channel, language):
    for example in PRODUCED[event_type].schema["examples"]:
        rendered = templates.render(templates.TEMPLATES[event_type], channel, example, language,
                                    {"name": "张三", "org_name": "甲工会", "to_org_name": "乙工会",
                                     "from_org_name": "甲工会"})
        assert rendered.body and "{" not in rendered.body and "}" not in rendered.body
        assert "{" not in rendered.title and "None" not in rendered.body
        if channel != "sms":
            assert rendered.title
        if language == "zh-CN" and channel == "inbox" and templates.TEMPLATES[event_type].audience == "member":
            assert "张三" in rendered.body


def test_times_are_shown_in_shanghai():
    assert templates.local_time("2026-12-05T01:00:00.000Z") == "2026年12月5日 09:00"
    assert templates.local_time("2026-12-05T16:30:00Z", "en") == "2026-12-06 00:30 (Beijing time)"
    assert templates.local_time("2026-12-10") == "2026年12月10日"
    rendered = templates.render(templates.TEMPLATES["gonghui.events.registration.confirmed"], "inbox",
                                PRODUCED["gonghui.events.registration.confirmed"].schema["examples"][0])
    assert "2026年12月5日 09:00" in rendered.body and "市体育中心" in rendered.body


def test_money_is_shown_in_yuan_and_codes_as_words():
    example = PRODUCED["gonghui.welfare.application.approved"].schema["examples"][0]
    rendered = templates.render(templates.TEMPLATES["gonghui.welfare.application.approved"], "inbox", example)
    assert "3,000.00 元" in rendered.body and "医疗救助" in rendered.body
    english = templates.render(templates.TEMPLATES["gonghui.welfare.application.approved"], "email", example, "en")
    assert "CNY 3,000.00" in english.body and "medical aid" in english.body and english.language == "en"


def test_a_language_without_text_falls_back_to_zh_cn_then_english():
    t = templates.Template("x", "notices", "member", {"en": "Only English"}, {"zh-CN": "中文正文"})
    rendered = templates.render(t, "inbox", {}, "fr")
    assert (rendered.title, rendered.body) == ("Only English", "中文正文")


def test_sms_is_one_short_line_and_email_has_a_footer():
    example = PRODUCED["gonghui.events.activity.cancelled"].schema["examples"][0]
    t = templates.TEMPLATES["gonghui.events.activity.cancelled"]
    assert templates.render(t, "sms", example).body.startswith("【工会】")
    assert templates.render(t, "email", example).body.endswith("请勿回复。")
    t2 = templates.TEMPLATES["gonghui.events.award.granted"]  # no SMS text of its own: the title
    sms = templates.render(t2, "sms", PRODUCED[t2.event_type].schema["examples"][0])
    assert sms.body == "【工会】获奖通知：2026年技能大赛"


def test_a_missing_value_renders_empty_rather_than_failing():
    rendered = templates.render(templates.TEMPLATES["gonghui.events.registration.confirmed"], "inbox", {})
    assert rendered.title == "报名成功："


def test_one_message_per_event_recipient_and_channel():
    example = PRODUCED["gonghui.events.congress.session_called"].schema["examples"][0]
    a = domain.from_template("gonghui.events.congress.session_called", "ev1", "m1", example)
    assert a.category == "congress" and a.dedupe_key == "gonghui.events.congress.session_called|ev1|m1|inbox"
    assert a.dedupe_key != domain.from_template("gonghui.events.congress.session_called", "ev1", "m2", example).dedupe_key
    assert "审议学校工作报告；审议教职工绩效工资分配方案" in a.body


def test_mandatory_categories_cannot_be_switched_off():
    with pytest.raises(DomainError) as refused:
        preferences.check({"congress": {"inbox": False}}, "22:00", "07:00")
    assert refused.value.field == "channels.congress.inbox"
    preferences.check({"congress": {"email": True}, "activities": {"inbox": False}}, "22:00", "07:00")
    for bad, field in [({"parties": {"inbox": True}}, "channels.parties"),
                       ({"activities": {"fax": True}}, "channels.activities.fax")]:
        with pytest.raises(DomainError) as refused:
            preferences.check(bad, "22:00", "07:00")
        assert refused.value.field == field
    with pytest.raises(DomainError) as refused:
        preferences.check({}, "25:00", "07:00")
    assert refused.value.field == "quiet_start"


def test_what_a_member_wants():
    assert preferences.wants({"activities": {"inbox": False}}, "activities", "inbox") is False
    assert preferences.wants({"assistance": {"inbox": False}}, "assistance", "inbox") is True
    assert preferences.wants(None, "activities", "inbox") is True
    assert preferences.wants(None, "activities", "email") is False


def test_quiet_hours_run_past_midnight_in_shanghai():
    utc = timezone.utc
    assert preferences.in_quiet_hours(datetime(2026, 12, 5, 14, 30, tzinfo=utc))  # 22:30 in Shanghai
    assert preferences.in_quiet_hours(datetime(2026, 12, 5, 22, 59, tzinfo=utc))  # 06:59
    assert not preferences.in_quiet_hours(datetime(2026, 12, 5, 23, 0, tzinfo=utc))  # 07:00
    assert not preferences.in_quiet_hours(datetime(2026, 12, 5, 4, 0, tzinfo=utc))  # noon
    assert preferences.in_quiet_hours(datetime(2026, 12, 5, 4, 0, tzinfo=utc), "12:00", "13:00")


def test_a_null_field_renders_empty_not_none():
    example = {**PRODUCED["gonghui.members.member.status_changed"].schema["examples"][0], "reason": None}
    rendered = templates.render(templates.TEMPLATES["gonghui.members.member.status_changed"], "inbox", example)
    assert "None" not in rendered.body and rendered.body.endswith("（暂停会籍）。")
