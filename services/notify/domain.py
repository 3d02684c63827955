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
