"""Registration (报名), the waitlist (候补) and check-in (签到)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.pagination import PageArgs, page, page_schema

from .. import domain
from ..app import registrations
from ..documents import Registration
from .scope import context

blp = Blueprint("registrations", __name__, url_prefix="/api/v1", description="Registrations (报名, 候补, 签到)")


class RegisterSchema(Schema):
    member_id = fields.String(validate=validate.Regexp(r"^[0-9a-f]{24}$"),
                              metadata={"description": "staff name the member; a member registers itself"})


class CheckInSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{8}$"),
                         metadata={"description": "the code shown at the venue"})


class RegistrationSchema(Schema):
    id = fields.String(required=True)
    activity_id = fields.String(required=True)
    member_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "confirmed, waitlisted, cancelled, removed"})
    ticket = fields.Integer(required=True, metadata={"description": "first come, first served"})
    registered_at = fields.DateTime(required=True)
    promoted_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    checked_in_at = fields.DateTime(allow_none=True)
    no_show = fields.Boolean(required=True)
    score = fields.Float(allow_none=True)
    rank = fields.Integer(allow_none=True)
    award = fields.String(allow_none=True)
    honour = fields.String(allow_none=True)


class RegistrationListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(domain.REGISTRATION_STATUSES))


RegistrationPage = page_schema(RegistrationSchema, "RegistrationPage")


def registration_out(r: Registration) -> dict:
    return {"id": str(r.pk), "activity_id": str(r.activity_id), "member_id": r.member_id, "status": r.status,
            "ticket": r.ticket, "registered_at": r.registered_at, "promoted_at": r.promoted_at,
            "cancelled_at": r.cancelled_at, "checked_in_at": r.checked_in_at, "no_show": bool(r.no_show),
            "score": r.score, "rank": r.rank, "award": r.award, "honour": r.honour}


@blp.route("/activities/<activity_id>/registrations")
class ActivityRegistrations(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, RegistrationSchema)
    def post(self, body, activity_id):
        """Register (a member itself, or staff for a member of their scope): confirmed while places
        last, then waitlisted, first come first served."""
        return registration_out(registrations.register(context(), activity_id, body.get("member_id")))

    @blp.arguments(RegistrationListArgs, location="query")
    @blp.response(200, RegistrationPage)
    def get(self, args, activity_id):
        """An activity's registrations, for staff running it."""
        found = registrations.of_activity(context(), activity_id, args.get("status"))
        return page(found.rows, args, registration_out, keep=found.keep)


@blp.route("/activities/<activity_id>/check-in")
class CheckIn(MethodView):
    @blp.arguments(CheckInSchema)
    @blp.response(200, RegistrationSchema)
    def post(self, body, activity_id):
        """A member checks itself in with the code shown at the venue (once)."""
        return registration_out(registrations.check_in_with_code(context(), activity_id, body["code"]))


@blp.route("/registrations")
class MyRegistrations(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, RegistrationPage)
    def get(self, args):
        """The caller's own registrations (a member token)."""
        found = registrations.mine(context())
        return page(found.rows, args, registration_out, keep=found.keep)


@blp.route("/registrations/<registration_id>")
class RegistrationById(MethodView):
    @blp.response(200, RegistrationSchema)
    def get(self, registration_id):
        return registration_out(registrations.read(context(), registration_id))


@blp.route("/registrations/<registration_id>/cancel")
class CancelRegistration(MethodView):
    @blp.response(200, RegistrationSchema)
    def post(self, registration_id):
        """The member cancels before the deadline, or staff remove it; the first waiting is promoted."""
        return registration_out(registrations.cancel(context(), registration_id))


@blp.route("/registrations/<registration_id>/check-in")
class StaffCheckIn(MethodView):
    @blp.response(200, RegistrationSchema)
    def post(self, registration_id):
        """Staff running the activity check a confirmed registration in (once)."""
        return registration_out(registrations.check_in_by_staff(context(), registration_id))
