"""Reminders before an activity: 24 hours and 1 hour before it starts, to each member still holding a
place. A stage whose time passed while a later one is already due is skipped (no "tomorrow" an hour
before); nothing once the activity has begun. Plain Python."""
from __future__ import annotations

from datetime import datetime, timedelta

STAGES = (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)))


def due_stage(starts_at: datetime, now: datetime, reminded: list[str] | tuple = ()) -> str | None:
    """The reminder to send now, if any: the latest stage whose time has come, not sent before."""
    if now >= starts_at:
        return None
    due = [name for name, before in STAGES if now >= starts_at - before]
    if not due or due[-1] in reminded:
        return None
    return due[-1]


def next_reminder_at(starts_at: datetime, reminded: list[str] | tuple = ()) -> datetime | None:
    """When the next reminder is due once ``reminded`` went (or were skipped): None when none is left."""
    done = [i for i, (name, _) in enumerate(STAGES) if name in reminded]
    ahead = STAGES[(max(done) + 1 if done else 0):]
    return starts_at - ahead[0][1] if ahead else None
