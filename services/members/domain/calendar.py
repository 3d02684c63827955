"""Which month a moment belongs to. Union life (dues months, participation, reviews, statistics)
runs on Beijing time, whatever offset a sender wrote its timestamp in: attendance at 07:00 on the
1st in Shanghai is that month's, although it is still the previous month in UTC."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

UNION_TIME = ZoneInfo("Asia/Shanghai")


def month_of(moment: datetime) -> str:
    """``YYYY-MM`` in Asia/Shanghai; a naive moment is taken as UTC (how the database returns them)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(UNION_TIME).strftime("%Y-%m")
