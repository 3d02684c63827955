"""Dues (会费): wage bases, assessments, payments (also in bulk, as payroll
deductions arrive), arrears per member, and a branch's monthly report."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.fields import Text, WholeNumber

from ..app import dues
from .scope import context

blp = Blueprint("dues", __name__, url_prefix="/api/v1/dues", description="Dues (会费)")

MONTH = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="Must be YYYY-MM."))
MAX_BATCH = 1000


class WageItem(Schema):
    member_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    wage_fen = WholeNumber(required=True, validate=validate.Range(min=0, max=10**10),
                              metadata={"description": "monthly wage in fen, without bonuses, allowances, subsidies"})


class AssessSchema(Schema):
    month = MONTH
    items = fields.List(fields.Nested(WageItem), required=True, validate=validate.Length(min=1, max=MAX_BATCH))


class PaymentItem(Schema):
    member_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    amount_fen = WholeNumber(required=True, validate=validate.Range(min=1, max=10**9))
    reference = Text(load_default=None, validate=validate.Length(min=1, max=100),
                              metadata={"description": "payroll batch or receipt; a repeated reference is ignored"})


class PaySchema(Schema):
    month = MONTH
    items = fields.List(fields.Nested(PaymentItem), required=True, validate=validate.Length(min=1, max=MAX_BATCH))


class ItemResult(Schema):
    member_id = fields.String(required=True)
    ok = fields.Boolean(required=True)
    dues_fen = fields.Integer()
    paid_fen = fields.Integer()
    error = fields.String()


class BatchResult(Schema):
    month = fields.String(required=True)
    succeeded = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    items = fields.List(fields.Nested(ItemResult), required=True)


class MonthSchema(Schema):
    month = fields.String(required=True)
    dues_fen = fields.Integer(required=True)
    paid_fen = fields.Integer(required=True)
    outstanding_fen = fields.Integer(required=True)
    exempt = fields.Boolean(required=True)


class MemberDuesSchema(Schema):
    member_id = fields.String(required=True)
    months = fields.List(fields.Nested(MonthSchema), required=True)
    arrears_fen = fields.Integer(required=True)
    months_in_arrears = fields.List(fields.String(), required=True)


class ReportArgs(Schema):
    org_id = fields.String(validate=validate.Length(min=1, max=64))
    month = MONTH


class ReportSchema(Schema):
    org_id = fields.String(required=True)
    month = fields.String(required=True)
    members_assessed = fields.Integer(required=True)
    exempt = fields.Integer(required=True)
    expected_fen = fields.Integer(required=True)
    paid_fen = fields.Integer(required=True)
    outstanding_fen = fields.Integer(required=True)
    members_paid_in_full = fields.Integer(required=True)
    members_outstanding = fields.Integer(required=True)


@blp.route("/assessments")
class Assessments(MethodView):
    @blp.arguments(AssessSchema)
    @blp.response(200, BatchResult)
    def post(self, body):
        """Record wage bases for a month (from payroll, up to 1000 a call) and assess dues: 0.5% of the
        wage with the part under 10 yuan not counted; kept memberships are exempt. Idempotent."""
        return dues.assess_month(context(), body["month"], body["items"])


@blp.route("/payments")
class Payments(MethodView):
    @blp.arguments(PaySchema)
    @blp.response(200, BatchResult)
    def post(self, body):
        """Record dues payments for a month (payroll deductions, up to 1000 a call). A payment whose
        reference was already recorded for that member and month is ignored."""
        return dues.pay_month(context(), body["month"], body["items"])


@blp.route("/members/<member_id>")
class MemberDues(MethodView):
    @blp.response(200, MemberDuesSchema)
    def get(self, member_id):
        """A member's dues by month and arrears (the member may read its own)."""
        return dues.member_dues(context(), member_id)


@blp.route("/report")
class Report(MethodView):
    @blp.arguments(ReportArgs, location="query")
    @blp.response(200, ReportSchema)
    def get(self, args):
        """A branch's (or any subtree's) dues for a month: expected, paid, outstanding."""
        return dues.report(context(), args.get("org_id"), args["month"])
