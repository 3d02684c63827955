import pytest

from services.notify import domain

pytestmark = pytest.mark.unit


def test_the_welcome_message_is_in_chinese_and_names_the_card():
    message = domain.welcome("m1", "张三", "示范市第一中学工会", "GH202600000001")
    assert message.title == "欢迎加入工会"
    assert "张三" in message.body and "示范市第一中学工会" in message.body and "GH202600000001" in message.body


def test_one_welcome_per_member_whatever_the_event_id():
    assert domain.welcome("m1", "a", "b", "c").dedupe_key == domain.welcome("m1", "x", "y", "z").dedupe_key
    assert domain.welcome("m1", "a", "b", "c").dedupe_key != domain.welcome("m2", "a", "b", "c").dedupe_key
