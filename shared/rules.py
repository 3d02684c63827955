"""The two ways a domain rule refuses, as plain exceptions: every service's ``domain`` raises them
(no framework in sight) and ``shared.errors.refuse_unless`` turns them into the API's refusals."""
from __future__ import annotations


class DomainError(ValueError):
    """A rule refused the request; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class StateError(DomainError):
    """The request is well formed, but the current state of what it acts on refuses it (a closed
    organisation, a member who has left, a transfer already answered): a conflict, not bad input."""
