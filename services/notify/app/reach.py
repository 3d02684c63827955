"""Who is reached how: for a batch of members, their choices (channels per category, quiet hours) and
which of them notify has an email address or a phone for, loaded in two queries; then the email and SMS
deliveries of a message, each not before its recipient's quiet hours end."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from shared.events.envelope import utcnow

from ..documents import Contact, Preference
from ..domain.preferences import QUIET_END, QUIET_START, not_before, wants
from ..domain.templates import Rendered
from .outgoing import delivery_document

EXTERNAL = ("email", "sms")


@dataclass
class Reach:
    choices: dict[str, dict] = field(default_factory=dict)  # member id -> preference row
    with_email: set[str] = field(default_factory=set)
    with_phone: set[str] = field(default_factory=set)
    now: datetime = field(default_factory=utcnow)

    @classmethod
    def load(cls, member_ids, now: datetime | None = None) -> "Reach":
        ids = list(set(member_ids))
        if not ids:
            return cls(now=now or utcnow())
        choices = {row["_id"]: row for row in Preference._get_collection().find(
            {"_id": {"$in": ids}}, {"channels": 1, "quiet_start": 1, "quiet_end": 1})}
        with_email, with_phone = set(), set()
        for row in Contact._get_collection().find({"_id": {"$in": ids}}, {"email_encrypted": 1, "phone_encrypted": 1}):
            if row.get("email_encrypted"):
                with_email.add(row["_id"])
            if row.get("phone_encrypted"):
                with_phone.add(row["_id"])
        return cls(choices, with_email, with_phone, now or utcnow())

    def wants(self, member_id: str, category: str, channel: str) -> bool:
        return wants((self.choices.get(member_id) or {}).get("channels"), category, channel)

    def reachable(self, member_id: str, channel: str) -> bool:
        return member_id in (self.with_email if channel == "email" else self.with_phone)

    def external(self, member_id: str, category: str) -> list[str]:
        """The channels besides the inbox this member gets a category on, and can be reached by."""
        return [c for c in EXTERNAL if self.wants(member_id, category, c) and self.reachable(member_id, c)]

    def not_before(self, member_id: str) -> datetime:
        row = self.choices.get(member_id) or {}
        return not_before(self.now, row.get("quiet_start") or QUIET_START, row.get("quiet_end") or QUIET_END)

    def deliveries(self, *, event_type: str, event_id: str, member_id: str, org_path: list[str], category: str,
                   render: Callable[[str], Rendered], useless_after: datetime | None = None) -> list[dict]:
        """The email and SMS deliveries of one message to one member; ``render(channel)`` fills the text.
        ``useless_after``: a message that would only go after then (a reminder held by the quiet hours past
        the activity's start) is not sent on those channels; the inbox has it."""
        if useless_after is not None and self.not_before(member_id) >= useless_after:
            return []
        out = []
        for channel in self.external(member_id, category):
            text = render(channel)
            out.append(delivery_document(event_type=event_type, event_id=event_id, channel=channel,
                                         recipient=member_id, member_id=member_id, org_path=org_path,
                                         category=category, subject=text.title or None, body=text.body,
                                         not_before=self.not_before(member_id)))
        return out
