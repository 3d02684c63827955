"""Notify domain: which message a member gets, in zh-CN. Plain Python."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    category: str
    title: str
    body: str
    dedupe_key: str  # one message per key, however often the event is replayed


def welcome(member_id: str, name: str, org_name: str, card_no: str) -> Message:
    return Message(
        category="membership",
        title="欢迎加入工会",
        body=(f"{name}，您好！欢迎您加入{org_name}。您的会员证号为 {card_no}。"
              "工会是职工之家，有困难找工会，我们将竭诚为您服务。"),
        dedupe_key=f"welcome|{member_id}",
    )


def from_template(event_type: str, event_id: str, recipient: str, data: dict, extra: dict | None = None,
                  language: str = "zh-CN") -> Message:
    """The inbox message of an event (or of notify's own reminder) for one recipient (a member id, or
    ``org:<id>`` for an organisation's staff): one per event × recipient × channel, however often the
    event is replayed."""
    from .templates import REMINDERS, TEMPLATES, render

    template = TEMPLATES.get(event_type) or REMINDERS[event_type]
    rendered = render(template, "inbox", data, language, extra)
    return Message(category=template.category, title=rendered.title, body=rendered.body,
                   dedupe_key=f"{event_type}|{event_id}|{recipient}|inbox")
