"""Condolences (慰问, 送温暖): campaigns over a subtree, their visits and progress; life-event payments."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.fields import Text
from shared.pagination import PageArgs, page, page_schema

from ..app import campaigns, life_events
from ..documents import Campaign, LifeEventPayment, Visit
from ..domain.condolences import CAMPAIGN_KINDS, CAMPAIGN_STATUSES, LIFE_EVENTS, SOURCES, VISIT_STATUSES
from .common import OBJECT_ID, fen, year
from .scope import context

blp = Blueprint("condolences", __name__, url_prefix="/api/v1", description="Condolences (慰问, 送温暖) and life events")


class CampaignInSchema(Schema):
    org_id = fields.String(required=True, validate=OBJECT_ID, metadata={"description": "the subtree it covers"})
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(CAMPAIGN_KINDS))
    source = fields.String(load_default=None, validate=validate.OneOf(SOURCES),
                           metadata={"description": "hardship: filed hardship households; members: active members "
                                                    "(default by kind)"})
    employment_types = fields.List(Text(validate=validate.Length(min=1, max=50)), load_default=list,
                                   validate=validate.Length(max=20),
                                   metadata={"description": "members source: only these (e.g. front-line workers)"})
    amount_fen = fen(description="per head, integer fen")
    year = year(load_default=None, metadata={"description": "the budget year (default: this year)"})


class CampaignSchema(Schema):
    id = fields.String(required=True)
    org_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    source = fields.String(required=True)
    employment_types = fields.List(fields.String(), required=True)
    amount_fen = fields.Integer(required=True)
    year = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(CAMPAIGN_STATUSES),
                           metadata={"description": "generating (the visit list), open, closed"})
    visits = fields.Integer(required=True, metadata={"description": "the visit list's length once generated"})
    created_at = fields.DateTime(required=True)
    generated_at = fields.DateTime(allow_none=True)


class CampaignListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(CAMPAIGN_STATUSES))


class VisitListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(VISIT_STATUSES))
    org_id = fields.String(validate=OBJECT_ID, metadata={"description": "only this organisation and below"})


class CampaignVisitInSchema(Schema):
    visited_by = Text(required=True, validate=validate.Length(min=1, max=200))
    visited_on = fields.Date(required=True)
    amount_fen = fen(required=False, load_default=None, description="given (default: the campaign's per head)")
    note = Text(load_default=None, validate=validate.Length(min=1, max=1000))


class CampaignVisitSchema(Schema):
    id = fields.String(required=True)
    campaign_id = fields.String(required=True)
    member_id = fields.String(required=True)
    file_id = fields.String(allow_none=True)
    org_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(VISIT_STATUSES))
    amount_fen = fields.Integer(allow_none=True)
    visited_by = fields.String(allow_none=True)
    visited_on = fields.Date(allow_none=True)
    note = fields.String(allow_none=True)
    entry_id = fields.String(allow_none=True)
    recorded_at = fields.DateTime(allow_none=True)


class ProgressRowSchema(Schema):
    org_id = fields.String(required=True)
    org_name = fields.String(allow_none=True)
    total = fields.Integer(required=True)
    visited = fields.Integer(required=True)
    amount_fen = fields.Integer(required=True)


class ProgressSchema(Schema):
    campaign_id = fields.String(required=True)
    status = fields.String(required=True)
    total = fields.Integer(required=True)
    visited = fields.Integer(required=True)
    amount_fen = fields.Integer(required=True)
    children = fields.List(fields.Nested(ProgressRowSchema), required=True,
                           metadata={"description": "per child organisation of the campaign's"})


class LifeEventInSchema(Schema):
    member_id = fields.String(required=True, validate=OBJECT_ID)
    kind = fields.String(required=True, validate=validate.OneOf(LIFE_EVENTS))
    occurred_on = fields.Date(required=True)
    note = Text(load_default=None, validate=validate.Length(min=1, max=1000))


class LifeEventSchema(Schema):
    id = fields.String(required=True)
    member_id = fields.String(required=True)
    org_id = fields.String(required=True)
    kind = fields.String(required=True)
    occurred_on = fields.Date(required=True)
    amount_fen = fields.Integer(required=True)
    entry_id = fields.String(required=True)
    note = fields.String(allow_none=True)
    paid_at = fields.DateTime(required=True)


class LifeEventListArgs(PageArgs):
    member_id = fields.String(validate=OBJECT_ID)
    kind = fields.String(validate=validate.OneOf(LIFE_EVENTS))


CampaignPage = page_schema(CampaignSchema, "CampaignPage")
VisitPage = page_schema(CampaignVisitSchema, "CampaignVisitPage")
LifeEventPage = page_schema(LifeEventSchema, "LifeEventPaymentPage")


def campaign_out(c: Campaign) -> dict:
    return {"id": str(c.pk), "org_id": c.org_id, "name": c.name, "kind": c.kind, "source": c.source,
            "employment_types": list(c.employment_types or []), "amount_fen": c.amount_fen, "year": c.year,
            "status": c.status, "visits": c.visits or 0, "created_at": c.created_at, "generated_at": c.generated_at}


def visit_out(v: Visit) -> dict:
    return {"id": str(v.pk), "campaign_id": str(v.campaign_id), "member_id": v.member_id,
            "file_id": str(v.file_id) if v.file_id else None, "org_id": v.org_id, "status": v.status,
            "amount_fen": v.amount_fen, "visited_by": v.visited_by, "visited_on": v.visited_on, "note": v.note,
            "entry_id": str(v.entry_id) if v.entry_id else None, "recorded_at": v.recorded_at}


def life_event_out(p: LifeEventPayment) -> dict:
    return {"id": str(p.pk), "member_id": p.member_id, "org_id": p.org_id, "kind": p.kind,
            "occurred_on": p.occurred_on, "amount_fen": p.amount_fen, "entry_id": str(p.entry_id), "note": p.note,
            "paid_at": p.paid_at}


@blp.route("/campaigns")
class Campaigns(MethodView):
    @blp.arguments(CampaignInSchema)
    @blp.response(201, CampaignSchema)
    def post(self, body):
        """Staff of the organisation or above start a campaign over its subtree; its visit list is generated
        (in batches; ``status`` stays ``generating`` until it is complete: POST .../generate continues it)."""
        return campaign_out(campaigns.create(context(), body["org_id"], body["name"], body["kind"], body["source"],
                                             body["employment_types"], body["amount_fen"], body["year"]))

    @blp.arguments(CampaignListArgs, location="query")
    @blp.response(200, CampaignPage)
    def get(self, args):
        """Campaigns of the caller's organisation and below, and those above it that cover it."""
        found = campaigns.listing(context(), args.get("status"))
        return page(found.rows, args, campaign_out, keep=found.keep)


@blp.route("/campaigns/<campaign_id>")
class CampaignById(MethodView):
    @blp.response(200, CampaignSchema)
    def get(self, campaign_id):
        return campaign_out(campaigns.read(context(), campaign_id))


@blp.route("/campaigns/<campaign_id>/generate")
class Generate(MethodView):
    @blp.response(200, CampaignSchema)
    def post(self, campaign_id):
        """Continue generating the visit list (idempotent: nobody is listed twice)."""
        return campaign_out(campaigns.generate(context(), campaign_id))


@blp.route("/campaigns/<campaign_id>/close")
class Close(MethodView):
    @blp.response(200, CampaignSchema)
    def post(self, campaign_id):
        """No more visits are recorded."""
        return campaign_out(campaigns.close(context(), campaign_id))


@blp.route("/campaigns/<campaign_id>/progress")
class Progress(MethodView):
    @blp.response(200, ProgressSchema)
    def get(self, campaign_id):
        """Visited of total and the amount given, per child organisation (as far as the caller's scope reaches)."""
        return campaigns.progress(context(), campaign_id)


@blp.route("/campaigns/<campaign_id>/visits")
class Visits(MethodView):
    @blp.arguments(VisitListArgs, location="query")
    @blp.response(200, VisitPage)
    def get(self, args, campaign_id):
        found = campaigns.visits(context(), campaign_id, args.get("status"), args.get("org_id"))
        return page(found.rows, args, visit_out, keep=found.keep)


@blp.route("/campaign-visits/<visit_id>")
class VisitById(MethodView):
    @blp.response(200, CampaignVisitSchema)
    def get(self, visit_id):
        return visit_out(campaigns.read_visit(context(), visit_id)[0])


@blp.route("/campaign-visits/<visit_id>/record")
class Record(MethodView):
    @blp.arguments(CampaignVisitInSchema)
    @blp.response(200, CampaignVisitSchema)
    def post(self, body, visit_id):
        """Record the visit once (who visited, when, the amount given, a note): paid from the campaign
        organisation's condolences budget, refused (422) when that would overspend it."""
        return visit_out(campaigns.record(context(), visit_id, body["visited_by"], body["visited_on"],
                                          body["amount_fen"], body["note"]))


@blp.route("/life-event-payments")
class LifeEvents(MethodView):
    @blp.arguments(LifeEventInSchema)
    @blp.response(201, LifeEventSchema)
    def post(self, body):
        """Staff pay a member of their scope for a life event, at the amount of the schedule in force, from
        the branch's condolences budget; once per member and event (409 the second time)."""
        return life_event_out(life_events.pay(context(), body["member_id"], body["kind"], body["occurred_on"],
                                              body["note"]))

    @blp.arguments(LifeEventListArgs, location="query")
    @blp.response(200, LifeEventPage)
    def get(self, args):
        """Staff: payments of their organisation and below; a member: its own."""
        found = life_events.listing(context(), args.get("member_id"), args.get("kind"))
        return page(found.rows, args, life_event_out, keep=found.keep)


@blp.route("/life-event-payments/<payment_id>")
class LifeEventById(MethodView):
    @blp.response(200, LifeEventSchema)
    def get(self, payment_id):
        return life_event_out(life_events.read(context(), payment_id))
