"""Members: registration, profile, status changes, history, search.
Personal data is masked in every response."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.fields import TEXT_PATTERN, Text
from shared.pagination import PageArgs, SortedPageArgs, page, page_schema, sorted_page

from .. import domain
from ..app import access, members, registration
from .member_schemas import PHONE, MemberCreateSchema, MemberSchema, member_out
from .scope import context

blp = Blueprint("members", __name__, url_prefix="/api/v1/members", description="Members (会员)")


class MemberUpdateSchema(Schema):
    name = Text(validate=validate.Length(min=1, max=100))
    gender = fields.String(validate=validate.OneOf(domain.GENDERS))
    phone = Text(validate=validate.Length(min=1, max=20), metadata=PHONE)
    employment_type = fields.String(validate=validate.OneOf(domain.EMPLOYMENT_TYPES))
    job = fields.String(allow_none=True, validate=validate.Length(max=100))
    education = fields.String(allow_none=True, validate=validate.Length(max=50))
    email = fields.Email(allow_none=True, validate=validate.Length(max=200))
    honours = fields.List(fields.String(validate=validate.OneOf(domain.HONOURS)), validate=validate.Length(max=20))


class StatusChangeSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(["suspend", "resume", "leave", "keep",
                                                                   "deceased"]))
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "required for leave (voluntary, constitution_art5) and keep "
                                                    "(retired, unemployed, employer_closed)"})


def _status_change_documented() -> dict:
    """StatusChange as JSON Schema: which reasons go with which action (marshmallow says only that a
    reason is text; the use case checks the rest)."""
    free_text = {"type": ["string", "null"], "minLength": 1, "maxLength": 500, "pattern": TEXT_PATTERN}

    def variant(actions, reason, required):
        return {"type": "object", "additionalProperties": False, "required": ["action", *required],
                "properties": {"action": {"type": "string", "enum": list(actions)}, "reason": reason}}
    return {"oneOf": [
        variant(["leave"], {"type": "string", "enum": list(domain.LEAVE_REASONS)}, ["reason"]),
        variant(["keep"], {"type": "string", "enum": list(domain.KEPT_REASONS)}, ["reason"]),
        variant(["suspend", "resume", "deceased"], free_text, []),
    ]}


DOCUMENTED_AS = {"StatusChange": _status_change_documented()}


class HistorySchema(Schema):
    at = fields.DateTime(required=True)
    action = fields.String(required=True)
    by = fields.String(required=True)
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    org_id = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    changed = fields.List(fields.String())


class HistoryListSchema(Schema):
    items = fields.List(fields.Nested(HistorySchema), required=True)


SORTS = {"-joined_at": ("joined_at", True, True), "joined_at": ("joined_at", False, True),
         "name": ("name", False, False), "-name": ("name", True, False)}


class SearchArgs(SortedPageArgs):
    org_id = fields.String(validate=validate.Length(min=1, max=64),
                           metadata={"description": "subtree to search; default: the caller's organisation"})
    name = Text(validate=validate.Length(min=1, max=100), metadata={"description": "name prefix"})
    card_no = Text(validate=validate.Length(min=1, max=32))
    status = fields.String(validate=validate.OneOf(domain.MEMBER_STATUSES))
    employment_type = fields.String(validate=validate.OneOf(domain.EMPLOYMENT_TYPES))
    gender = fields.String(validate=validate.OneOf(domain.GENDERS))
    sort = fields.String(load_default="-joined_at", validate=validate.OneOf(list(SORTS)))


SEARCH_FILTERS = ("name", "card_no", "status", "employment_type", "gender")
MemberPage = page_schema(MemberSchema, "MemberPage")


@blp.route("")
class Members(MethodView):
    @blp.arguments(MemberCreateSchema)
    @blp.response(201, MemberSchema)
    def post(self, body):
        """Register an active member (staff registration) and issue a card number."""
        return member_out(registration.register(context(), body))

    @blp.arguments(SearchArgs, location="query")
    @blp.response(200, MemberPage)
    def get(self, args):
        """Search members in a subtree: name prefix, card number, status, employment type, gender."""
        field, descending, is_datetime = SORTS[args["sort"]]
        found = members.search(context(), args.get("org_id"), {k: args.get(k) for k in SEARCH_FILTERS},
                               with_joined_at=field == "joined_at")
        return sorted_page(found.rows, args, member_out, field, descending, is_datetime, keep=found.keep)


@blp.route("/<member_id>")
class MemberById(MethodView):
    @blp.response(200, MemberSchema)
    def get(self, member_id):
        """Read a member: an admin of its branch (or above), or the member itself."""
        return member_out(access.member(context(), member_id))

    @blp.arguments(MemberUpdateSchema)
    @blp.response(200, MemberSchema)
    def patch(self, body, member_id):
        """Update a member's profile (staff)."""
        return member_out(members.update_profile(context(), member_id, body))


@blp.route("/<member_id>/status")
class Status(MethodView):
    @blp.arguments(StatusChangeSchema)
    @blp.response(200, MemberSchema)
    def post(self, body, member_id):
        """Suspend, resume, leave (退会), keep the membership (保留会籍) or record a death."""
        return member_out(members.change_status(context(), member_id, body["action"], body["reason"]))


class PersonalDataSchema(Schema):
    id_number = fields.String(required=True)
    phone = fields.String(required=True)
    email = fields.String(allow_none=True)


class PersonalDataReadSchema(Schema):
    fields_ = fields.List(fields.String(), required=True, data_key="fields")
    by = fields.String(required=True)
    by_org = fields.String(allow_none=True)
    at = fields.DateTime(required=True)


PersonalDataReadPage = page_schema(PersonalDataReadSchema, "PersonalDataReadPage")


@blp.route("/<member_id>/personal-data")
class PersonalData(MethodView):
    @blp.response(200, PersonalDataSchema)
    def get(self, member_id):
        """The member's ID number, phone and email in clear, for the member itself and the staff of its
        branch (or above). Every read is recorded (who, when, which member; never the values)."""
        return members.read_personal_data(context(), member_id)


@blp.route("/<member_id>/personal-data/reads")
class PersonalDataReads(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, PersonalDataReadPage)
    def get(self, args, member_id):
        """Who has read the member's personal data in clear, and when, newest first (PIPL art. 45:
        the member may see it, as may the staff of its branch or above)."""
        return page(members.personal_data_reads(context(), member_id), args,
                    lambda r: {"fields_": list(r.fields), "by": r.by, "by_org": r.by_org, "at": r.at})


@blp.route("/<member_id>/history")
class History(MethodView):
    @blp.response(200, HistoryListSchema)
    def get(self, member_id):
        """Every change in the member's life, oldest first (the member itself may read it too)."""
        member = access.member(context(), member_id)
        return {"items": [{key: getattr(entry, key) for key in HistorySchema._declared_fields}
                          for entry in member.history]}
