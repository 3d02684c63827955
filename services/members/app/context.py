"""What every use case receives besides its input."""
from __future__ import annotations

from dataclasses import dataclass, field

from shared.auth import Caller
from shared.config import Settings
from shared.pagination import Found
from shared.pii import Vault

from ..card_numbers import CardSequence
from ..tree import PathResolver


@dataclass
class Context:
    who: Caller
    tree: PathResolver  # current paths, read at most once per organisation for this context
    vault: Vault  # personal data at rest
    contact_seal: Vault | None  # contact details in contact.changed events (for notify)
    settings: Settings
    request_id: str | None = None
    # callers over their hourly budget of "already registered elsewhere" answers, as this process knows
    exhausted: set[str] = field(default_factory=set)
    # this process's reserved card numbers (without: one counter update per card)
    card_numbers: CardSequence = field(default_factory=lambda: CardSequence(1))


__all__ = ["Context", "Found"]
