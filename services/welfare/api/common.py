"""Fields the welfare API shares."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.fields import WholeNumber

OBJECT_ID = validate.Regexp(r"^[0-9a-f]{24}$")
MAX_FEN = 10_000_000_000_00


def fen(required=True, description="an amount in integer fen", minimum=1, **kwargs):
    return WholeNumber(required=required, validate=validate.Range(min=minimum, max=MAX_FEN),
                       metadata={"description": description}, **kwargs)


def year(**kwargs):
    return fields.Integer(validate=validate.Range(min=2000, max=2100), **kwargs)


class StepSchema(Schema):
    action = fields.String(required=True)
    by = fields.String(required=True)
    at = fields.DateTime(required=True)
    note = fields.String(allow_none=True)


def steps_out(steps) -> list[dict]:
    return [{"action": s.action, "by": s.by, "at": s.at, "note": s.note} for s in steps]
