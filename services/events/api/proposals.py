"""Proposals (提案) to a congress session over HTTP: submit, second (附议), accept (立案) or decline, assign,
answer, rate; the trail; a session's report."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.fields import Text
from shared.pagination import PageArgs, page, page_schema

from ..app import proposals
from ..documents.congress import Proposal
from ..domain import congress as rules
from .scope import context

blp = Blueprint("proposals", __name__, url_prefix="/api/v1/proposals", description="Congress proposals (提案)")
session_blp = Blueprint("congress_session_proposals", __name__, url_prefix="/api/v1/congress-sessions",
                        description="A congress session's proposals (提案) and their report")

MEMBER_ID = validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$")


class DelegateActingSchema(Schema):
    member_id = fields.String(load_default=None, allow_none=True, validate=MEMBER_ID,
                              metadata={"description": "staff name the delegate; a member acts for itself"})


class ProposalSubmitSchema(DelegateActingSchema):
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    content = Text(required=True, validate=validate.Length(min=1, max=5000))


class ProposalNoteSchema(Schema):
    note = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=1000))


class ProposalDeclineSchema(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=1000))


class ProposalAssignSchema(Schema):
    department = Text(required=True, validate=validate.Length(min=1, max=200),
                      metadata={"description": "the handling department (承办部门)"})


class ProposalAnswerSchema(Schema):
    answer = Text(required=True, validate=validate.Length(min=1, max=5000))


class ProposalRateSchema(DelegateActingSchema):
    satisfaction = fields.String(required=True, validate=validate.OneOf(rules.SATISFACTION))
    comment = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=1000))


class ProposalStepSchema(Schema):
    action = fields.String(required=True)
    at = fields.DateTime(required=True)
    by = fields.String(allow_none=True)
    member_id = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class ProposalSchema(Schema):
    id = fields.String(required=True)
    session_id = fields.String(required=True)
    term_id = fields.String(required=True)
    congress_id = fields.String(required=True)
    proposer_id = fields.String(required=True)
    title = fields.String(required=True)
    content = fields.String(required=True)
    seconders = fields.List(fields.String(), required=True)
    status = fields.String(required=True, validate=validate.OneOf(rules.PROPOSAL_STATUSES))
    decline_reason = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    answer = fields.String(allow_none=True)
    satisfaction = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    submitted_at = fields.DateTime(required=True)
    history = fields.List(fields.Nested(ProposalStepSchema), required=True, metadata={"description": "the trail"})


class ProposalListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(rules.PROPOSAL_STATUSES))


class ProposalReportSchema(Schema):
    session_id = fields.String(required=True)
    total = fields.Integer(required=True)
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_satisfaction = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


ProposalPage = page_schema(ProposalSchema, "ProposalPage")


def proposal_out(p: Proposal) -> dict:
    return {"id": str(p.pk), "session_id": str(p.session_id), "term_id": str(p.term_id),
            "congress_id": str(p.congress_id), "proposer_id": p.proposer_id, "title": p.title, "content": p.content,
            "seconders": list(p.seconders), "status": p.status, "decline_reason": p.decline_reason,
            "department": p.department, "answer": p.answer, "satisfaction": p.satisfaction, "comment": p.comment,
            "submitted_at": p.submitted_at,
            "history": [{"action": s.action, "at": s.at, "by": s.by, "member_id": s.member_id, "note": s.note}
                        for s in p.history]}


@session_blp.route("/<session_id>/proposals")
class SessionProposals(MethodView):
    @session_blp.arguments(ProposalSubmitSchema)
    @session_blp.response(201, ProposalSchema)
    def post(self, body, session_id):
        """A delegate submits a proposal (itself, or staff naming the delegate)."""
        return proposal_out(proposals.submit(context(), session_id, body["member_id"], body["title"],
                                             body["content"]))

    @session_blp.arguments(ProposalListArgs, location="query")
    @session_blp.response(200, ProposalPage)
    def get(self, args, session_id):
        return page(proposals.listing(context(), session_id, args.get("status")), args, proposal_out)


@session_blp.route("/<session_id>/proposal-report")
class SessionReport(MethodView):
    @session_blp.response(200, ProposalReportSchema)
    def get(self, session_id):
        """The session's proposals counted by state and by the proposers' satisfaction."""
        return proposals.report(context(), session_id)


@blp.route("/<proposal_id>")
class ProposalById(MethodView):
    @blp.response(200, ProposalSchema)
    def get(self, proposal_id):
        """A proposal with its whole trail."""
        return proposal_out(proposals.read(context(), proposal_id))


@blp.route("/<proposal_id>/seconds")
class Seconds(MethodView):
    @blp.arguments(DelegateActingSchema)
    @blp.response(200, ProposalSchema)
    def post(self, body, proposal_id):
        """Another delegate of the term seconds (附议) the proposal, once."""
        return proposal_out(proposals.second(context(), proposal_id, body["member_id"]))


@blp.route("/<proposal_id>/accept")
class Accept(MethodView):
    @blp.arguments(ProposalNoteSchema)
    @blp.response(200, ProposalSchema)
    def post(self, body, proposal_id):
        """Accept (立案): staff for the proposals committee; needs two seconders."""
        return proposal_out(proposals.accept(context(), proposal_id, body["note"]))


@blp.route("/<proposal_id>/decline")
class Decline(MethodView):
    @blp.arguments(ProposalDeclineSchema)
    @blp.response(200, ProposalSchema)
    def post(self, body, proposal_id):
        """Decline (不立案) with a reason."""
        return proposal_out(proposals.decline(context(), proposal_id, body["reason"]))


@blp.route("/<proposal_id>/assign")
class Assign(MethodView):
    @blp.arguments(ProposalAssignSchema)
    @blp.response(200, ProposalSchema)
    def post(self, body, proposal_id):
        """Assign an accepted proposal to its handling department (督办)."""
        return proposal_out(proposals.assign(context(), proposal_id, body["department"]))


@blp.route("/<proposal_id>/answer")
class Answer(MethodView):
    @blp.arguments(ProposalAnswerSchema)
    @blp.response(200, ProposalSchema)
    def post(self, body, proposal_id):
        """Record the handling department's answer (反馈)."""
        return proposal_out(proposals.answer(context(), proposal_id, body["answer"]))


@blp.route("/<proposal_id>/rate")
class Rate(MethodView):
    @blp.arguments(ProposalRateSchema)
    @blp.response(200, ProposalSchema)
    def post(self, body, proposal_id):
        """The proposer rates the answer (满意度)."""
        return proposal_out(proposals.rate(context(), proposal_id, body["member_id"], body["satisfaction"],
                                           body["comment"]))
