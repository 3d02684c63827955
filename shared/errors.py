"""Refusals an application layer raises, with no web framework in sight: each kind carries the
HTTP status the web layer (shared/web.py) answers with, in the one error shape."""
from __future__ import annotations

from .rules import DomainError, StateError


class AppError(Exception):
    status = 400
    default_code: str | None = None

    def __init__(self, message: str, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.code = code or self.default_code


class Unauthenticated(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    """Missing, or outside the caller's scope: the two look the same."""
    status = 404


class TooLarge(AppError):
    status = 413
    default_code = "too_large"


class Conflict(AppError):
    status = 409
    default_code = "conflict"


class Refused(AppError):
    """The input is well formed but a rule refuses it (422), naming the field."""
    status = 422

    @classmethod
    def on(cls, field: str, message: str, reason: str | None = None) -> "Refused":
        return cls(message, {field: [reason or message]})


class TooMany(AppError):
    status = 429


def refuse_unless(check, *args):
    """Run a domain check; a refusal because of the current state becomes a 409 (``invalid_state``),
    any other a 422, each naming the field."""
    try:
        return check(*args)
    except StateError as exc:
        raise in_state(exc.field, exc.message) from exc
    except DomainError as exc:
        raise Refused.on(exc.field, exc.message) from exc


def in_state(field: str, message: str, reason: str | None = None) -> Conflict:
    """The request is well formed but the current state refuses it."""
    return Conflict(message, {field: [reason or message]}, code="invalid_state")
