"""Mutual medical aid (职工医疗互助): yearly enrolments and hospitalisation claims. A claim is an assistance
application of kind mutual_aid: it is reviewed, approved, rejected and disbursed by the application routes."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.fields import Text
from shared.pagination import PageArgs, page, page_schema

from ..app import mutual_aid
from ..documents import Enrolment
from .applications import ApplicationSchema, application_out
from .common import OBJECT_ID, fen, year
from .scope import context

blp = Blueprint("mutual_aid", __name__, url_prefix="/api/v1/mutual-aid", description="Mutual medical aid (职工医疗互助)")


class EnrolInSchema(Schema):
    member_id = fields.String(validate=OBJECT_ID, metadata={"description": "staff name the member; a member "
                                                                           "enrols itself"})


class EnrolmentSchema(Schema):
    id = fields.String(required=True)
    member_id = fields.String(required=True)
    org_id = fields.String(required=True)
    scheme_org_id = fields.String(required=True, metadata={"description": "the organisation running the scheme"})
    year = fields.Integer(required=True)
    contribution_fen = fields.Integer(required=True)
    entry_id = fields.String(required=True, metadata={"description": "the contribution in the ledger"})
    rate_percent = fields.Integer(required=True)
    deductible_fen = fields.Integer(required=True)
    cap_fen = fields.Integer(required=True)
    cap_left_fen = fields.Integer(required=True, metadata={"description": "what approved claims left of the cap"})
    reimbursed_fen = fields.Integer(required=True)
    enrolled_at = fields.DateTime(required=True)


class EnrolmentListArgs(PageArgs):
    member_id = fields.String(validate=OBJECT_ID)
    year = year()


class ClaimInSchema(Schema):
    member_id = fields.String(validate=OBJECT_ID, metadata={"description": "staff name the member; a member "
                                                                           "claims for itself"})
    expenses_fen = fen(description="the stay's eligible expenses, integer fen")
    admitted_on = fields.Date(required=True)
    discharged_on = fields.Date(required=True)
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))


EnrolmentPage = page_schema(EnrolmentSchema, "EnrolmentPage")


def enrolment_out(e: Enrolment) -> dict:
    return {"id": str(e.pk), "member_id": e.member_id, "org_id": e.org_id, "scheme_org_id": e.scheme_org_id,
            "year": e.year, "contribution_fen": e.contribution_fen, "entry_id": str(e.entry_id),
            "rate_percent": e.rate_percent, "deductible_fen": e.deductible_fen, "cap_fen": e.cap_fen,
            "cap_left_fen": e.cap_left_fen, "reimbursed_fen": e.reimbursed_fen or 0, "enrolled_at": e.enrolled_at}


@blp.route("/enrolments")
class Enrolments(MethodView):
    @blp.arguments(EnrolInSchema)
    @blp.response(201, EnrolmentSchema)
    def post(self, body):
        """Enrol for this year under the scheme covering the member's organisation; the contribution is
        received into the scheme's mutual_aid budget (once per member and year)."""
        return enrolment_out(mutual_aid.enrol(context(), body.get("member_id")))

    @blp.arguments(EnrolmentListArgs, location="query")
    @blp.response(200, EnrolmentPage)
    def get(self, args):
        """Staff: enrolments of their organisation and below; a member: its own."""
        found = mutual_aid.enrolments(context(), args.get("member_id"), args.get("year"))
        return page(found.rows, args, enrolment_out, keep=found.keep)


@blp.route("/enrolments/<enrolment_id>")
class EnrolmentById(MethodView):
    @blp.response(200, EnrolmentSchema)
    def get(self, enrolment_id):
        return enrolment_out(mutual_aid.read_enrolment(context(), enrolment_id))


@blp.route("/claims")
class Claims(MethodView):
    @blp.arguments(ClaimInSchema)
    @blp.response(201, ApplicationSchema)
    def post(self, body):
        """A hospitalisation claim of an enrolled member: an application of kind mutual_aid for the scheme's
        rate of the expenses above the deductible, within what is left of the yearly cap. It then follows
        the application workflow (/api/v1/assistance/<id>/review, approve, reject, disburse)."""
        return application_out(mutual_aid.claim(context(), body.get("member_id"), body["expenses_fen"],
                                                body["admitted_on"], body["discharged_on"], body["reason"]))
