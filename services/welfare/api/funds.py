"""Union funds (工会经费): budgets, the append-only ledger (no route updates or deletes an entry: a
correction is a reversal), budget versus actual (决算) and the export for the funds audit committee."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.fields import Text
from shared.pagination import PageArgs, page, page_schema

from ..app import funds
from ..documents import Budget, LedgerEntry
from ..domain.funds import CATEGORIES, ENTRY_KINDS, MANUAL_KINDS
from .common import OBJECT_ID, fen, year
from .scope import context

blp = Blueprint("funds", __name__, url_prefix="/api/v1", description="Union funds (工会经费)")


class BudgetInSchema(Schema):
    org_id = fields.String(required=True, validate=OBJECT_ID)
    year = year(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    budget_fen = fen(minimum=0, description="the year's budget for the category, in integer fen")


class BudgetSchema(Schema):
    id = fields.String(required=True)
    org_id = fields.String(required=True)
    year = fields.Integer(required=True)
    category = fields.String(required=True)
    budget_fen = fields.Integer(required=True)
    committed_fen = fields.Integer(required=True)
    disbursed_fen = fields.Integer(required=True)
    contributed_fen = fields.Integer(required=True)
    transferred_in_fen = fields.Integer(required=True)
    transferred_out_fen = fields.Integer(required=True)
    remaining_fen = fields.Integer(required=True, metadata={"description": "what may still be committed"})
    balance_fen = fields.Integer(required=True, metadata={"description": "money held: budget, income and "
                                                                         "transfers less what was paid"})


class BudgetListArgs(PageArgs):
    org_id = fields.String(validate=OBJECT_ID)
    year = year()


class EntryInSchema(Schema):
    budget_id = fields.String(required=True, validate=OBJECT_ID)
    kind = fields.String(required=True, validate=validate.OneOf(MANUAL_KINDS),
                         metadata={"description": "commitment, disbursement (direct), contribution (received), "
                                                  "transfer (to another budget)"})
    amount_fen = fen()
    to_budget_id = fields.String(load_default=None, validate=OBJECT_ID)
    payment_reference = Text(load_default=None, validate=validate.Length(min=1, max=100))
    note = Text(load_default=None, validate=validate.Length(min=1, max=500))


class EntrySchema(Schema):
    id = fields.String(required=True)
    budget_id = fields.String(required=True)
    org_id = fields.String(required=True)
    year = fields.Integer(required=True)
    category = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ENTRY_KINDS))
    amount_fen = fields.Integer(required=True)
    deltas = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                         metadata={"description": "what the entry did to its budget's counters"})
    reverses = fields.String(allow_none=True)
    application_id = fields.String(allow_none=True)
    transfer_id = fields.String(allow_none=True)
    counterpart_org_id = fields.String(allow_none=True)
    payment_reference = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    by = fields.String(required=True)
    at = fields.DateTime(required=True)


class EntryListArgs(PageArgs):
    budget_id = fields.String(validate=OBJECT_ID)
    org_id = fields.String(validate=OBJECT_ID)
    year = year()


class ReverseSchema(Schema):
    note = Text(required=True, validate=validate.Length(min=1, max=500), metadata={"description": "why"})


class ReportArgs(Schema):
    org_id = fields.String(required=True, validate=OBJECT_ID)
    year = year(required=True)


class ExportArgs(ReportArgs):
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class ReportRowSchema(Schema):
    category = fields.String(required=True)
    budget_fen = fields.Integer(required=True)
    committed_fen = fields.Integer(required=True)
    disbursed_fen = fields.Integer(required=True)
    outstanding_fen = fields.Integer(required=True, metadata={"description": "committed, not yet paid"})
    contributed_fen = fields.Integer(required=True)
    transferred_in_fen = fields.Integer(required=True)
    transferred_out_fen = fields.Integer(required=True)
    remaining_fen = fields.Integer(required=True)
    balance_fen = fields.Integer(required=True)
    used_percent = fields.Float(allow_none=True, metadata={"description": "paid out of the budget"})


class TotalsSchema(Schema):
    budget_fen = fields.Integer(required=True)
    committed_fen = fields.Integer(required=True)
    disbursed_fen = fields.Integer(required=True)
    outstanding_fen = fields.Integer(required=True)
    contributed_fen = fields.Integer(required=True)
    transferred_in_fen = fields.Integer(required=True)
    transferred_out_fen = fields.Integer(required=True)
    remaining_fen = fields.Integer(required=True)
    balance_fen = fields.Integer(required=True)


class ReportSchema(Schema):
    org_id = fields.String(required=True)
    org_name = fields.String(allow_none=True)
    year = fields.Integer(required=True)
    categories = fields.List(fields.Nested(ReportRowSchema), required=True)
    totals = fields.Nested(TotalsSchema, required=True)


BudgetPage = page_schema(BudgetSchema, "BudgetPage")
EntryPage = page_schema(EntrySchema, "EntryPage")


def budget_out(b: Budget) -> dict:
    counters = {key: getattr(b, key) or 0 for key in ("budget_fen", "committed_fen", "disbursed_fen", "contributed_fen",
                                                      "transferred_in_fen", "transferred_out_fen", "remaining_fen")}
    from ..domain.funds import balance

    return {"id": str(b.pk), "org_id": b.org_id, "year": b.year, "category": b.category, **counters,
            "balance_fen": balance(counters)}


def _id(value):
    return str(value) if value else None


def entry_out(e: LedgerEntry) -> dict:
    return {"id": str(e.pk), "budget_id": str(e.budget_id), "org_id": e.org_id, "year": e.year,
            "category": e.category, "kind": e.kind, "amount_fen": e.amount_fen, "deltas": dict(e.deltas),
            "reverses": _id(e.reverses), "application_id": _id(e.application_id), "transfer_id": e.transfer_id,
            "counterpart_org_id": e.counterpart_org_id, "payment_reference": e.payment_reference, "note": e.note,
            "by": e.by, "at": e.at}


@blp.route("/budgets")
class Budgets(MethodView):
    @blp.arguments(BudgetInSchema)
    @blp.response(201, BudgetSchema)
    def post(self, body):
        """Staff of the organisation or above set its budget for a year and category (once)."""
        return budget_out(funds.create_budget(context(), body["org_id"], body["year"], body["category"],
                                              body["budget_fen"]))

    @blp.arguments(BudgetListArgs, location="query")
    @blp.response(200, BudgetPage)
    def get(self, args):
        """Budgets of the caller's organisation and below."""
        found = funds.budgets(context(), args.get("org_id"), args.get("year"))
        return page(found.rows, args, budget_out, keep=found.keep)


@blp.route("/budgets/<budget_id>")
class BudgetById(MethodView):
    @blp.response(200, BudgetSchema)
    def get(self, budget_id):
        return budget_out(funds.read_budget(context(), budget_id))


@blp.route("/ledger")
class Ledger(MethodView):
    @blp.arguments(EntryInSchema)
    @blp.response(201, EntrySchema)
    def post(self, body):
        """Record an entry by hand; spending and transfers past what remains of the budget are refused (422).
        A transfer answers with its paying entry."""
        return entry_out(funds.record(context(), body["budget_id"], body["kind"], body["amount_fen"], body["note"],
                                      body["to_budget_id"], body["payment_reference"]))

    @blp.arguments(EntryListArgs, location="query")
    @blp.response(200, EntryPage)
    def get(self, args):
        """Entries of a budget, or of an organisation's budgets (of a year), newest first."""
        found = funds.entries(context(), args.get("budget_id"), args.get("org_id"), args.get("year"))
        return page(found.rows, args, entry_out, keep=found.keep)


@blp.route("/ledger/<entry_id>")
class EntryById(MethodView):
    @blp.response(200, EntrySchema)
    def get(self, entry_id):
        return entry_out(funds.read_entry(context(), entry_id))


@blp.route("/ledger/<entry_id>/reverse")
class Reverse(MethodView):
    @blp.arguments(ReverseSchema)
    @blp.response(201, EntrySchema)
    def post(self, body, entry_id):
        """A reversal entry undoing exactly what the entry did, once (409 again); refused (422) if it would
        overspend the budget."""
        return entry_out(funds.reverse(context(), entry_id, body["note"]))


@blp.route("/funds/report")
class Report(MethodView):
    @blp.arguments(ReportArgs, location="query")
    @blp.response(200, ReportSchema)
    def get(self, args):
        """Budget versus actual (决算) per category of an organisation and year."""
        return funds.report(context(), args["org_id"], args["year"])


@blp.route("/funds/export")
class Export(MethodView):
    @blp.arguments(ExportArgs, location="query")
    @blp.doc(responses={"200": {"description": "the report and the year's entries (formulas neutralised)",
                                "content": {"text/csv": {"schema": {"type": "string"}},
                                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                                                "schema": {"type": "string", "format": "binary"}}}}})
    def get(self, args):
        """The funds of an organisation and year for the funds audit committee (经费审查), CSV or XLSX."""
        body, mimetype, name = funds.export(context(), args["org_id"], args["year"], args["format"])
        return Response(body, content_type=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})
