"""Domain errors shared by the members rules (the kinds every service's rules raise)."""
from __future__ import annotations

from shared.rules import DomainError, StateError

__all__ = ["DomainError", "StateError"]
