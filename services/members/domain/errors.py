"""Domain errors shared by the members rules."""
from __future__ import annotations


class DomainError(ValueError):
    """A rule refused the request; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message
