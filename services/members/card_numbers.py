"""Card-number sequence values for one process, reserved from the federation-wide counter a block at a
time: most registrations take theirs without a database round trip (the counter's find-and-modify was one
of a registration's five database commands)."""
from __future__ import annotations

import os
import threading

from .documents import Counter

COUNTER = "card_no"


class CardSequence:
    """Unique, in order within a process (not across processes), not gapless: values a process reserved
    but never handed out before it stopped are never issued (a person who rejoins keeps the old number
    anyway, so numbers were never gapless). A forked copy drops its parent's block, so two processes never
    hand out one value."""

    def __init__(self, block: int):
        self.block = max(1, block)
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._values = iter(())

    def next(self) -> int:
        with self._lock:
            if self._owner != os.getpid():
                self._owner, self._values = os.getpid(), iter(())
            value = next(self._values, None)
            if value is None:
                self._values = iter(Counter.take(COUNTER, self.block))
                value = next(self._values)
            return value
