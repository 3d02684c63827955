"""The welfare service's rules: plain Python, no framework, no database."""
from shared.rules import DomainError, StateError

from . import assistance, funds, hardship
from .assistance import Policy

__all__ = ["DomainError", "Policy", "StateError", "assistance", "funds", "hardship"]
