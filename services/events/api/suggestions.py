"""Suggestions (合理化建议)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.fields import Text, WholeNumber
from shared.pagination import PageArgs, page, page_schema

from ..app import suggestions
from ..documents import Suggestion
from .scope import context

blp = Blueprint("suggestions", __name__, url_prefix="/api/v1/suggestions", description="Suggestions (合理化建议)")
STATUSES = ("submitted", "adopted", "not_adopted")


class SubmitSchema(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    content = Text(required=True, validate=validate.Length(min=1, max=5000))


class ReviewSchema(Schema):
    adopted = fields.Boolean(required=True)
    note = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=1000))
    reward_fen = WholeNumber(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100_000_000),
                             metadata={"description": "a reward in integer fen, for an adopted suggestion"})


class SuggestionSchema(Schema):
    id = fields.String(required=True)
    member_id = fields.String(required=True)
    title = fields.String(required=True)
    content = fields.String(required=True)
    status = fields.String(required=True)
    review_note = fields.String(allow_none=True)
    reward_fen = fields.Integer(allow_none=True)
    submitted_at = fields.DateTime(required=True)
    reviewed_at = fields.DateTime(allow_none=True)


class SuggestionListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))


SuggestionPage = page_schema(SuggestionSchema, "SuggestionPage")


def suggestion_out(s: Suggestion) -> dict:
    return {"id": str(s.pk), "member_id": s.member_id, "title": s.title, "content": s.content, "status": s.status,
            "review_note": s.review_note, "reward_fen": s.reward_fen, "submitted_at": s.submitted_at,
            "reviewed_at": s.reviewed_at}


@blp.route("")
class Suggestions(MethodView):
    @blp.arguments(SubmitSchema)
    @blp.response(201, SuggestionSchema)
    def post(self, body):
        """A member makes a suggestion (member token)."""
        return suggestion_out(suggestions.submit(context(), body["title"], body["content"]))

    @blp.arguments(SuggestionListArgs, location="query")
    @blp.response(200, SuggestionPage)
    def get(self, args):
        """Staff: suggestions from their organisation and below; a member: its own."""
        found = suggestions.listing(context(), args.get("status"))
        return page(found.rows, args, suggestion_out, keep=found.keep)


@blp.route("/<suggestion_id>")
class SuggestionById(MethodView):
    @blp.response(200, SuggestionSchema)
    def get(self, suggestion_id):
        return suggestion_out(suggestions.read(context(), suggestion_id))


@blp.route("/<suggestion_id>/review")
class Review(MethodView):
    @blp.arguments(ReviewSchema)
    @blp.response(200, SuggestionSchema)
    def post(self, body, suggestion_id):
        """Adopted or not, with a note and, if adopted, an optional reward in fen."""
        return suggestion_out(suggestions.review(context(), suggestion_id, body["adopted"], body["note"],
                                                 body["reward_fen"]))
