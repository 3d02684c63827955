"""The welfare service's rules: plain Python, no framework, no database."""
from shared.rules import DomainError, StateError

from . import assistance, condolences, funds, hardship, mutual_aid
from .assistance import Policy

__all__ = ["DomainError", "Policy", "StateError", "assistance", "condolences", "funds", "hardship", "mutual_aid"]
