"""The ways a delivery leaves notify: email over SMTP, SMS through an HTTP gateway, webhooks to systems.

Each channel is an object built once per sending thread from the settings; ``send(delivery)`` returns
once the receiver has taken the message and raises ``Retry`` (worth another try later) or
``Undeliverable`` (never worth one). Every send carries the delivery's key, so a receiver can drop
the repeat of a send whose outcome notify could not record (a crash between the two)."""
from __future__ import annotations

from typing import Protocol


class Retry(Exception):
    """The receiver failed or could not be reached: try again later."""


class Undeliverable(Exception):
    """No retry can succeed (no address, a disabled hook, a channel switched off)."""


class Channel(Protocol):
    name: str

    def send(self, delivery: dict) -> None: ...

    def close(self) -> None: ...
