"""Marshmallow fields every service uses."""
from __future__ import annotations

from marshmallow import fields

TEXT_PATTERN = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"


class Text(fields.String):
    """A string with its surrounding whitespace removed before validation, so that a name of only
    spaces is refused as empty (``validate.Length(min=1)``) instead of passing as text; the OpenAPI
    document says so (at least one character that is not a space, and no NUL, which no text takes)."""

    def __init__(self, *args, **kwargs):
        metadata = {"pattern": TEXT_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(*args, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class WholeNumber(fields.Integer):
    """A JSON number without a fractional part (``5000`` or ``5000.0``, as JSON Schema's integer), never a
    string or a boolean: amounts in fen."""

    def _validated(self, value):
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                isinstance(value, float) and not value.is_integer()):
            raise self.make_error("invalid", input=value)
        return int(value)
