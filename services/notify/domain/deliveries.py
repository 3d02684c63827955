"""When a failed delivery is tried again: exponential backoff with jitter, then given up. Plain Python."""
from __future__ import annotations

import random
from datetime import datetime, timedelta


def retry_at(now: datetime, attempts: int, max_attempts: int, base_seconds: float,
             jitter: float = 0.2, rng: random.Random | None = None) -> datetime | None:
    """When attempt ``attempts + 1`` may go (the first retry after ``base_seconds``, each next one twice
    as late, give or take ``jitter``), or None once ``max_attempts`` have been made: the delivery is dead."""
    if attempts >= max_attempts:
        return None
    delay = base_seconds * 2 ** (attempts - 1)
    spread = (rng or random).uniform(-jitter, jitter) * delay
    return now + timedelta(seconds=max(0.0, delay + spread))
