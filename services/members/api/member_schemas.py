"""The member as the API reads and writes it: what the members and applications views share."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.fields import Text

from .. import domain
from ..documents import Member

# Documented exactly, so that a client (or a fuzzer) can tell a valid value from its schema: the shape
# as a pattern, the check character and birth date as a named format.
ID_NUMBER = {"pattern": domain.ID_NUMBER_PATTERN, "format": "gb11643",
             "description": "GB 11643 resident ID number: 17 digits and a check character (0-9 or X); "
                            "the birth date in it is real and not in the future"}
PHONE = {"pattern": domain.PHONE_PATTERN,
         "description": "mainland China mobile number, 11 digits starting 13-19 (spaces, dashes, +86 allowed)"}


class MemberCreateSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    gender = fields.String(required=True, validate=validate.OneOf(domain.GENDERS))
    id_number = Text(required=True, validate=validate.Length(min=1, max=32), metadata=ID_NUMBER)
    phone = Text(required=True, validate=validate.Length(min=1, max=20), metadata=PHONE)
    org_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    employment_type = fields.String(required=True, validate=validate.OneOf(domain.EMPLOYMENT_TYPES))
    job = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    education = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=200))


class MemberSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    gender = fields.String(required=True)
    id_number = fields.String(required=True, metadata={"description": "Masked: 110***********123X"})
    phone = fields.String(required=True, metadata={"description": "Masked: 138****5678"})
    org_id = fields.String(required=True)
    org_path = fields.List(fields.String(), required=True)
    employment_type = fields.String(required=True)
    job = fields.String(allow_none=True)
    education = fields.String(allow_none=True)
    honours = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    kept = fields.Boolean(required=True)
    kept_reason = fields.String(allow_none=True)
    application_state = fields.String(allow_none=True)
    card_no = fields.String(allow_none=True)
    joined_at = fields.DateTime(allow_none=True)
    left_at = fields.DateTime(allow_none=True)
    version = fields.Integer(required=True)


def member_out(member: Member) -> dict:
    return {"id": str(member.pk), "name": member.name, "gender": member.gender,
            "id_number": member.id_number_masked, "phone": member.phone_masked,
            "org_id": member.org_id, "org_path": list(member.org_path),
            "employment_type": member.employment_type, "job": member.job, "education": member.education,
            "honours": list(member.honours or []),
            "status": member.status, "kept": bool(member.kept_reason), "kept_reason": member.kept_reason,
            "application_state": member.application_state, "card_no": member.card_no,
            "joined_at": member.joined_at, "left_at": member.left_at, "version": member.version}
