"""The workers' congress (职工代表大会) over HTTP: congresses, terms (届) and delegates, sessions (次会议) and
check-in. Proposals and ballots have their own modules; every blueprint is listed in ``BLUEPRINTS``."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.fields import Text, WholeNumber
from shared.pagination import PageArgs, page, page_schema

from ..app import congress
from ..documents.congress import Congress, CongressSession, Term
from ..domain import congress as rules
from .scope import context

congresses_blp = Blueprint("congresses", __name__, url_prefix="/api/v1/congresses",
                           description="Workers' congresses (职工代表大会 / 教职工代表大会)")
terms_blp = Blueprint("congress_terms", __name__, url_prefix="/api/v1/congress-terms",
                      description="Terms (届) of a congress and their delegates (职工代表)")
sessions_blp = Blueprint("congress_sessions", __name__, url_prefix="/api/v1/congress-sessions",
                         description="Sessions (次会议) of a congress term and the delegates' check-in (签到)")

MEMBER_ID = validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$")


class CongressCreateSchema(Schema):
    org_id = fields.String(required=True, validate=validate.Length(min=1, max=64),
                           metadata={"description": "the grassroots union"})
    kind = fields.String(required=True, validate=validate.OneOf(rules.CONGRESS_KINDS),
                         metadata={"description": "workers (职工代表大会) or teachers (教职工代表大会, in schools)"})
    name = Text(required=True, validate=validate.Length(min=1, max=200))


class CongressSchema(Schema):
    id = fields.String(required=True)
    org_id = fields.String(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class CongressListArgs(PageArgs):
    org_id = fields.String(validate=validate.Length(min=1, max=64),
                           metadata={"description": "only congresses at or below this organisation"})


class TermCreateSchema(Schema):
    number = WholeNumber(required=True, validate=validate.Range(min=1, max=1000), metadata={"description": "第N届"})
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class DelegateSchema(Schema):
    member_id = fields.String(required=True)
    elected_on = fields.Date(allow_none=True)


class TermSchema(Schema):
    id = fields.String(required=True)
    congress_id = fields.String(required=True)
    org_id = fields.String(required=True)
    number = fields.Integer(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    delegates = fields.List(fields.Nested(DelegateSchema), required=True)
    delegate_count = fields.Integer(required=True)


class DelegateAddSchema(Schema):
    member_id = fields.String(required=True, validate=MEMBER_ID)
    elected_on = fields.Date(load_default=None, allow_none=True)


class SessionCreateSchema(Schema):
    number = WholeNumber(required=True, validate=validate.Range(min=1, max=1000), metadata={"description": "第N次会议"})
    held_on = fields.Date(required=True)
    venue = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    agenda = fields.List(Text(validate=validate.Length(min=1, max=500)), required=True,
                         validate=validate.Length(min=1, max=50))


class SessionSchema(Schema):
    id = fields.String(required=True)
    congress_id = fields.String(required=True)
    term_id = fields.String(required=True)
    org_id = fields.String(required=True)
    number = fields.Integer(required=True)
    held_on = fields.Date(required=True)
    venue = fields.String(allow_none=True)
    agenda = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    present = fields.List(fields.String(), required=True, metadata={"description": "delegates checked in"})
    present_count = fields.Integer(required=True)
    delegate_count = fields.Integer(required=True)
    quorum = fields.Boolean(required=True, metadata={"description": "more than two thirds of all delegates present"})
    called_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(allow_none=True)


class CongressCheckInSchema(Schema):
    member_id = fields.String(load_default=None, allow_none=True, validate=MEMBER_ID,
                              metadata={"description": "staff name the delegate; a member checks itself in"})


CongressPage = page_schema(CongressSchema, "CongressPage")
TermPage = page_schema(TermSchema, "CongressTermPage")
SessionPage = page_schema(SessionSchema, "CongressSessionPage")


def congress_out(c: Congress) -> dict:
    return {"id": str(c.pk), "org_id": c.org_id, "kind": c.kind, "name": c.name, "created_at": c.created_at}


def term_out(t: Term) -> dict:
    return {"id": str(t.pk), "congress_id": str(t.congress_id), "org_id": t.org_id, "number": t.number,
            "starts_on": t.starts_on, "ends_on": t.ends_on, "delegate_count": len(t.delegates),
            "delegates": [{"member_id": d.member_id, "elected_on": d.elected_on} for d in t.delegates]}


def session_out(s: CongressSession) -> dict:
    present, delegates = congress.quorum(s, congress.term_of(s))
    return {"id": str(s.pk), "congress_id": str(s.congress_id), "term_id": str(s.term_id), "org_id": s.org_id,
            "number": s.number, "held_on": s.held_on, "venue": s.venue, "agenda": list(s.agenda), "status": s.status,
            "present": list(s.present_ids), "present_count": present, "delegate_count": delegates,
            "quorum": rules.has_quorum(present, delegates), "called_at": s.called_at, "closed_at": s.closed_at}


@congresses_blp.route("")
class Congresses(MethodView):
    @congresses_blp.arguments(CongressCreateSchema)
    @congresses_blp.response(201, CongressSchema)
    def post(self, body):
        """Set up a grassroots union's congress (staff of the union or above; one per union)."""
        return congress_out(congress.create_congress(context(), body["org_id"], body["kind"], body["name"]))

    @congresses_blp.arguments(CongressListArgs, location="query")
    @congresses_blp.response(200, CongressPage)
    def get(self, args):
        """Staff: the congresses at or below their organisation; a member: its union's."""
        return page(congress.congresses(context(), args.get("org_id")), args, congress_out)


@congresses_blp.route("/<congress_id>")
class CongressById(MethodView):
    @congresses_blp.response(200, CongressSchema)
    def get(self, congress_id):
        return congress_out(congress.read_congress(context(), congress_id))


@congresses_blp.route("/<congress_id>/terms")
class Terms(MethodView):
    @congresses_blp.arguments(TermCreateSchema)
    @congresses_blp.response(201, TermSchema)
    def post(self, body, congress_id):
        """Begin a term (届) of the congress (three to five years)."""
        return term_out(congress.create_term(context(), congress_id, body["number"], body["starts_on"],
                                             body["ends_on"]))

    @congresses_blp.arguments(PageArgs, location="query")
    @congresses_blp.response(200, TermPage)
    def get(self, args, congress_id):
        return page(congress.terms(context(), congress_id), args, term_out)


@terms_blp.route("/<term_id>")
class TermById(MethodView):
    @terms_blp.response(200, TermSchema)
    def get(self, term_id):
        """A term and its delegates."""
        return term_out(congress.read_term(context(), term_id))


@terms_blp.route("/<term_id>/delegates")
class Delegates(MethodView):
    @terms_blp.arguments(DelegateAddSchema)
    @terms_blp.response(201, TermSchema)
    def post(self, body, term_id):
        """Record a delegate elected for the term: an active member of the union, membership not kept."""
        return term_out(congress.add_delegate(context(), term_id, body["member_id"], body["elected_on"]))


@terms_blp.route("/<term_id>/sessions")
class Sessions(MethodView):
    @terms_blp.arguments(SessionCreateSchema)
    @terms_blp.response(201, SessionSchema)
    def post(self, body, term_id):
        """Call a session (publishes congress.session_called to tell the delegates)."""
        return session_out(congress.call_session(context(), term_id, body["number"], body["held_on"], body["venue"],
                                                 body["agenda"]))

    @terms_blp.arguments(PageArgs, location="query")
    @terms_blp.response(200, SessionPage)
    def get(self, args, term_id):
        return page(congress.sessions(context(), term_id), args, session_out)


@sessions_blp.route("/<session_id>")
class SessionById(MethodView):
    @sessions_blp.response(200, SessionSchema)
    def get(self, session_id):
        return session_out(congress.read_session(context(), session_id))


@sessions_blp.route("/<session_id>/check-ins")
class CheckIns(MethodView):
    @sessions_blp.arguments(CongressCheckInSchema)
    @sessions_blp.response(200, SessionSchema)
    def post(self, body, session_id):
        """Check a delegate in, once (the delegate itself, or staff at the door); recorded as attendance."""
        return session_out(congress.check_in(context(), session_id, body["member_id"]))


@sessions_blp.route("/<session_id>/close")
class CloseSession(MethodView):
    @sessions_blp.response(200, SessionSchema)
    def post(self, session_id):
        """Close the session (no ballot of it may still be open)."""
        return session_out(congress.close_session(context(), session_id))


def _blueprints() -> list[Blueprint]:
    from . import ballots, proposals

    return [congresses_blp, terms_blp, sessions_blp, proposals.blp, proposals.session_blp, ballots.blp,
            ballots.session_blp]


BLUEPRINTS: list[Blueprint] = _blueprints()
