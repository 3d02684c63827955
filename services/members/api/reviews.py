"""Education-pending reviews (章程 art. 5) for branch staff to follow up."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from shared.events.envelope import utcnow
from shared.pagination import SortedPageArgs, page_schema, sorted_page
from shared.scope import require_role
from shared.web import ApiError

from ..documents import Review
from ..published import REVIEW_RESOLVED, review_data
from . import scope
from .members import caller
from .orgs import subtree_root

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


def _visible(who):
    return lambda r: (who.has("admin") or who.has("operator")) and scope.sees(who, r.org_path)


@blp.route("")
class Reviews(MethodView):
    @blp.arguments(ReviewArgs, location="query")
    @blp.response(200, ReviewPage)
    def get(self, args):
        """Reviews in a subtree (default: the caller's organisation), oldest first."""
        org = subtree_root(args.get("org_id"))
        queryset = Review.objects(org_path=str(org.pk), status=args["status"])
        return sorted_page(queryset, args, review_out, "opened_at", descending=False, is_datetime=True,
                           keep=scope.within(str(org.pk), lambda r: r.org_path))


@blp.route("/<path:review_id>/resolve")
class Resolve(MethodView):
    @blp.arguments(ResolveSchema)
    @blp.response(200, ReviewSchema)
    def post(self, body, review_id):
        """Close a review with its outcome. The member's status is not touched."""
        who = caller()
        require_role(who, "operator", "admin")
        review = Review.objects(pk=review_id).first()
        if review is None or not _visible(who)(review):
            raise ApiError(404, "review not found")
        if review.status != "open":
            raise ApiError(422, "the review is already resolved", {"status": ["Resolved."]})
        now = utcnow()
        review.status, review.resolved_at, review.resolved_by = "resolved", now, who.sub
        review.outcome, review.note, review.version = body["outcome"], body["note"], review.version + 1
        if not Review.update_with_event(review.pk, REVIEW_RESOLVED, review_data(review),
                                        conditions={"status": "open"}, set__status="resolved", set__resolved_at=now,
                                        set__resolved_by=who.sub, set__outcome=body["outcome"],
                                        set__note=body["note"], set__version=review.version):
            raise ApiError(409, "the review was resolved meanwhile", code="conflict")
        return review_out(review)
