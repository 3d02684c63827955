"""A member's preferences: each channel on or off per category (the mandatory categories stay on) and
quiet hours in Asia/Shanghai (22:00-07:00 unless the member chose others), kept for the channels that
can wait (email, SMS). Plain Python."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from shared.rules import DomainError

from .templates import CATEGORIES, CHANNELS, MANDATORY, SHANGHAI

QUIET_START, QUIET_END = "22:00", "07:00"
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def defaults() -> dict[str, dict[str, bool]]:
    """Every category on in the inbox; email and SMS off until the member switches them on, except the
    mandatory categories, which SMS carries too."""
    return {category: {"inbox": True, "email": False, "sms": category in MANDATORY} for category in CATEGORIES}


def merged(stored: dict | None) -> dict[str, dict[str, bool]]:
    out = defaults()
    for category, channels in (stored or {}).items():
        if category in out:
            out[category].update({c: bool(v) for c, v in channels.items() if c in CHANNELS})
    return out


def check(channels: dict[str, dict[str, bool]], quiet_start: str, quiet_end: str) -> None:
    """Refuses (naming the field) an unknown category or channel, a mandatory category switched off in
    the inbox, and quiet hours not written HH:MM."""
    for category, switches in channels.items():
        if category not in CATEGORIES:
            raise DomainError(f"channels.{category}", f"unknown category {category}")
        for channel, on in switches.items():
            if channel not in CHANNELS:
                raise DomainError(f"channels.{category}.{channel}", f"unknown channel {channel}")
            if category in MANDATORY and channel == "inbox" and not on:
                raise DomainError(f"channels.{category}.{channel}",
                                  f"{category} notices are mandatory and cannot be switched off")
    for name, value in (("quiet_start", quiet_start), ("quiet_end", quiet_end)):
        if not _CLOCK.match(value or ""):
            raise DomainError(name, "a time of day, HH:MM (Asia/Shanghai)")


def wants(channels: dict | None, category: str, channel: str) -> bool:
    """Whether a member gets a category on a channel: a mandatory category always reaches the inbox."""
    if category in MANDATORY and channel == "inbox":
        return True
    return merged(channels).get(category, {}).get(channel, channel == "inbox")


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def in_quiet_hours(moment: datetime, quiet_start: str = QUIET_START, quiet_end: str = QUIET_END) -> bool:
    """Whether a UTC moment falls in the quiet hours (which may run past midnight) in Asia/Shanghai."""
    local = moment.astimezone(SHANGHAI).time()
    start, end = _clock(quiet_start), _clock(quiet_end)
    if start == end:
        return False
    return start <= local < end if start < end else (local >= start or local < end)


def not_before(moment: datetime, quiet_start: str = QUIET_START, quiet_end: str = QUIET_END) -> datetime:
    """When an email or SMS due at ``moment`` (UTC) may go: at once, or when the quiet hours end
    (Asia/Shanghai) — delayed, never dropped."""
    if not in_quiet_hours(moment, quiet_start, quiet_end):
        return moment
    local = moment.astimezone(SHANGHAI)
    end = _clock(quiet_end)
    until = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if until <= local:
        until += timedelta(days=1)
    return until.astimezone(moment.tzinfo)
