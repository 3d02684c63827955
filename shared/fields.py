"""Marshmallow fields every service uses."""
from __future__ import annotations

from marshmallow import fields


class Text(fields.String):
    """A string with its surrounding whitespace removed before validation, so that a name of only
    spaces is refused as empty (``validate.Length(min=1)``) instead of passing as text."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()
