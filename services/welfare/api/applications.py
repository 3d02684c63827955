"""Assistance applications (帮扶申请)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.fields import Text
from shared.pagination import PageArgs, page, page_schema

from ..app import applications
from ..documents import Application
from ..domain.assistance import APPLIED_KINDS, KINDS, STATUSES
from .common import OBJECT_ID, StepSchema, fen, steps_out, year
from .scope import context

blp = Blueprint("applications", __name__, url_prefix="/api/v1/assistance",
                description="Assistance applications (帮扶申请)")


class ApplySchema(Schema):
    member_id = fields.String(validate=OBJECT_ID, metadata={"description": "staff name the member; a member "
                                                                           "applies for itself"})
    kind = fields.String(required=True, validate=validate.OneOf(APPLIED_KINDS),
                         metadata={"description": "a mutual aid claim is made at /api/v1/mutual-aid/claims"})
    amount_fen = fen()
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))
    child_school = Text(load_default=None, validate=validate.Length(min=1, max=200),
                        metadata={"description": "education grant (金秋助学): the child's school"})
    child_admission_year = year(load_default=None, metadata={"description": "education grant: the year the child "
                                                                            "was admitted"})


class ApplicationNoteSchema(Schema):
    note = Text(load_default=None, validate=validate.Length(min=1, max=1000))


class ApplicationRejectSchema(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=1000),
                  metadata={"description": "told to the applicant"})


class DisburseSchema(Schema):
    payment_reference = Text(required=True, validate=validate.Length(min=1, max=100))
    note = Text(load_default=None, validate=validate.Length(min=1, max=1000))


class ApplicationSchema(Schema):
    id = fields.String(required=True)
    member_id = fields.String(required=True)
    org_id = fields.String(required=True)
    kind = fields.String(required=True)
    year = fields.Integer(required=True)
    amount_fen = fields.Integer(required=True)
    reason = fields.String(required=True)
    child_school = fields.String(allow_none=True)
    child_admission_year = fields.Integer(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    rejection_reason = fields.String(allow_none=True)
    commitment_id = fields.String(allow_none=True)
    disbursement_id = fields.String(allow_none=True)
    payment_reference = fields.String(allow_none=True)
    submitted_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True)
    expenses_fen = fields.Integer(allow_none=True, metadata={"description": "a mutual aid claim's expenses"})
    enrolment_id = fields.String(allow_none=True)
    admitted_on = fields.Date(allow_none=True)
    discharged_on = fields.Date(allow_none=True)
    trail = fields.List(fields.Nested(StepSchema), required=True)


class ApplicationListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    kind = fields.String(validate=validate.OneOf(KINDS))
    member_id = fields.String(validate=OBJECT_ID)


ApplicationPage = page_schema(ApplicationSchema, "ApplicationPage")


def application_out(a: Application) -> dict:
    return {"id": str(a.pk), "member_id": a.member_id, "org_id": a.org_id, "kind": a.kind, "year": a.year,
            "amount_fen": a.amount_fen, "reason": applications.reason_of(context(), a), "child_school": a.child_school,
            "child_admission_year": a.child_admission_year, "status": a.status,
            "rejection_reason": a.rejection_reason,
            "commitment_id": str(a.commitment_id) if a.commitment_id else None,
            "disbursement_id": str(a.disbursement_id) if a.disbursement_id else None,
            "payment_reference": a.payment_reference, "submitted_at": a.submitted_at, "decided_at": a.decided_at,
            "expenses_fen": a.expenses_fen, "enrolment_id": str(a.enrolment_id) if a.enrolment_id else None,
            "admitted_on": a.admitted_on, "discharged_on": a.discharged_on, "trail": steps_out(a.trail)}


@blp.route("")
class Applications(MethodView):
    @blp.arguments(ApplySchema)
    @blp.response(201, ApplicationSchema)
    def post(self, body):
        """A member applies for itself, or staff for a member of their scope (active members only; one open
        application per kind; within the yearly cap)."""
        return application_out(applications.submit(
            context(), body.get("member_id"), body["kind"], body["amount_fen"], body["reason"], body["child_school"],
            body["child_admission_year"]))

    @blp.arguments(ApplicationListArgs, location="query")
    @blp.response(200, ApplicationPage)
    def get(self, args):
        """Staff: applications of their organisation and below; a member: its own."""
        found = applications.listing(context(), args.get("status"), args.get("kind"), args.get("member_id"))
        return page(found.rows, args, application_out, keep=found.keep)


@blp.route("/<application_id>")
class ApplicationById(MethodView):
    @blp.response(200, ApplicationSchema)
    def get(self, application_id):
        return application_out(applications.read(context(), application_id))


@blp.route("/<application_id>/review")
class Review(MethodView):
    @blp.arguments(ApplicationNoteSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, body, application_id):
        """Staff of the branch or above review a submitted application."""
        return application_out(applications.review(context(), application_id, body["note"]))


@blp.route("/<application_id>/approve")
class Approve(MethodView):
    @blp.arguments(ApplicationNoteSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, body, application_id):
        """Approve a reviewed application (the level above the branch when over the branch's limit): its amount
        is committed against the branch's assistance budget, refused (422) if that would overspend it."""
        return application_out(applications.approve(context(), application_id, body["note"]))


@blp.route("/<application_id>/reject")
class Reject(MethodView):
    @blp.arguments(ApplicationRejectSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, body, application_id):
        """Reject a submitted or reviewed application, with the reason told to the applicant."""
        return application_out(applications.reject(context(), application_id, body["reason"]))


@blp.route("/<application_id>/disburse")
class Disburse(MethodView):
    @blp.arguments(DisburseSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, body, application_id):
        """The approved amount was paid, with the payment reference: a disbursement entry in the ledger."""
        return application_out(applications.disburse(context(), application_id, body["payment_reference"],
                                                     body["note"]))
