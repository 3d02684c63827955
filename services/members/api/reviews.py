"""Education-pending reviews (章程 art. 5) for branch staff to follow up."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.pagination import SortedPageArgs, page_schema, sorted_page

from ..app import reviews
from ..documents import Review
from .scope import context

blp = Blueprint("reviews", __name__, url_prefix="/api/v1/reviews",
                description="Education-pending reviews (章程第五条)")

OUTCOMES = ("spoken_to_changed", "good_reason", "treated_as_left")


class ReviewSchema(Schema):
    id = fields.String(required=True)
    member_id = fields.String(required=True)
    member_name = fields.String(required=True)
    org_id = fields.String(required=True)
    evaluated_month = fields.String(required=True)
    window = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    opened_at = fields.DateTime(required=True)
    resolved_at = fields.DateTime(allow_none=True)
    outcome = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class ReviewArgs(SortedPageArgs):
    org_id = fields.String(validate=validate.Length(min=1, max=64))
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "resolved"]))


class ResolveSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES),
                            metadata={"description": "treated_as_left is recorded here; the branch then records "
                                                     "the leave itself (reason constitution_art5)"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


ReviewPage = page_schema(ReviewSchema, "ReviewPage")


def review_out(r: Review) -> dict:
    return {"id": r.pk, "member_id": r.member_id, "member_name": r.member_name, "org_id": r.org_id,
            "evaluated_month": r.evaluated_month, "window": list(r.window), "status": r.status,
            "opened_at": r.opened_at, "resolved_at": r.resolved_at, "outcome": r.outcome, "note": r.note}


@blp.route("")
class Reviews(MethodView):
    @blp.arguments(ReviewArgs, location="query")
    @blp.response(200, ReviewPage)
    def get(self, args):
        """Reviews in a subtree (default: the caller's organisation), oldest first."""
        found = reviews.listing(context(), args.get("org_id"), args["status"])
        return sorted_page(found.rows, args, review_out, "opened_at", descending=False, is_datetime=True,
                           keep=found.keep)


@blp.route("/<path:review_id>/resolve")
class Resolve(MethodView):
    @blp.arguments(ResolveSchema)
    @blp.response(200, ReviewSchema)
    def post(self, body, review_id):
        """Close a review with its outcome. The member's status is not touched."""
        return review_out(reviews.resolve(context(), review_id, body["outcome"], body["note"]))
