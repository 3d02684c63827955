"""Secret ballots (无记名投票) of a congress session over HTTP: create, open, cast, close. While a ballot is
open nobody sees its counts; a closed ballot shows the counts and the result. The register of who voted is
never shown (a member is told only whether it has voted itself)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.fields import Text, WholeNumber
from shared.pagination import PageArgs, page, page_schema

from ..app import ballots
from ..documents.congress import Ballot
from ..domain import congress as rules
from .scope import context

blp = Blueprint("ballots", __name__, url_prefix="/api/v1/ballots", description="Secret ballots (无记名投票)")
session_blp = Blueprint("congress_session_ballots", __name__, url_prefix="/api/v1/congress-sessions",
                        description="A congress session's secret ballots")

MEMBER_ID = validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$")


class BallotCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(rules.BALLOT_KINDS))
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    candidates = fields.List(fields.String(validate=MEMBER_ID), load_default=list, validate=validate.Length(max=200),
                             metadata={"description": "an election's candidates: members of the union (delegates or not)"})
    seats = WholeNumber(load_default=None, allow_none=True, validate=validate.Range(min=1, max=200),
                           metadata={"description": "an election: how many a delegate marks at most, and are elected"})


class BallotCastSchema(Schema):
    choice = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(rules.MOTION_CHOICES),
                           metadata={"description": "a motion: yes, no or abstain"})
    candidates = fields.List(fields.String(validate=MEMBER_ID), load_default=None, allow_none=True,
                             validate=validate.Length(max=200),
                             metadata={"description": "an election: the candidates marked (none: a blank ballot)"})


class BallotResultSchema(Schema):
    delegates = fields.Integer(required=True, metadata={"description": "ALL the term's delegates"})
    cast = fields.Integer(required=True)
    needed = fields.Integer(required=True, metadata={"description": "more than half of all delegates"})
    tally = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    passed = fields.Boolean(allow_none=True, required=True)
    elected = fields.List(fields.String(), required=True)
    tied = fields.List(fields.String(), required=True)


class BallotSchema(Schema):
    id = fields.String(required=True)
    session_id = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    candidates = fields.List(fields.String(), required=True)
    seats = fields.Integer(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(rules.BALLOT_STATUSES))
    delegates = fields.Integer(allow_none=True)
    cast = fields.Integer(required=True, metadata={"description": "ballots cast so far (turnout, not how)"})
    voted = fields.Boolean(allow_none=True, metadata={"description": "a member's token: whether it has voted"})
    result = fields.Nested(BallotResultSchema, allow_none=True, metadata={"description": "only once closed"})
    opened_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


BallotPage = page_schema(BallotSchema, "BallotPage")


def ballot_out(b: Ballot) -> dict:
    return {"id": str(b.pk), "session_id": str(b.session_id), "kind": b.kind, "title": b.title,
            "candidates": list(b.candidates), "seats": b.seats, "status": b.status, "delegates": b.delegates,
            "cast": b.cast, "voted": ballots.has_voted(context(), b),
            "result": dict(b.result) if b.status == "closed" else None,
            "opened_at": b.opened_at, "closed_at": b.closed_at}


@session_blp.route("/<session_id>/ballots")
class SessionBallots(MethodView):
    @session_blp.arguments(BallotCreateSchema)
    @session_blp.response(201, BallotSchema)
    def post(self, body, session_id):
        """Draft a motion or an election (staff)."""
        return ballot_out(ballots.create(context(), session_id, body["kind"], body["title"], body["candidates"],
                                         body["seats"]))

    @session_blp.arguments(PageArgs, location="query")
    @session_blp.response(200, BallotPage)
    def get(self, args, session_id):
        return page(ballots.listing(context(), session_id), args, ballot_out)


@blp.route("/<ballot_id>")
class BallotById(MethodView):
    @blp.response(200, BallotSchema)
    def get(self, ballot_id):
        """A ballot; its result once closed."""
        return ballot_out(ballots.read(context(), ballot_id))


@blp.route("/<ballot_id>/open")
class Open(MethodView):
    @blp.response(200, BallotSchema)
    def post(self, ballot_id):
        """Open the ballot: only while more than two thirds of all the term's delegates are checked in."""
        return ballot_out(ballots.open_ballot(context(), ballot_id))


@blp.route("/<ballot_id>/votes")
class Votes(MethodView):
    @blp.arguments(BallotCastSchema)
    @blp.response(200, BallotSchema)
    def post(self, body, ballot_id):
        """Cast the calling delegate's one secret ballot (member token of a checked-in delegate)."""
        return ballot_out(ballots.cast(context(), ballot_id, body["choice"], body["candidates"]))


@blp.route("/<ballot_id>/close")
class Close(MethodView):
    @blp.response(200, BallotSchema)
    def post(self, ballot_id):
        """Close the ballot and publish its result (ballot.closed)."""
        return ballot_out(ballots.close(context(), ballot_id))
