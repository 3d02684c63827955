"""Education-pending reviews (章程 art. 5): the branch follows each one up and closes it with its
outcome. Closing a review never changes the member's status."""
from __future__ import annotations

from shared import versioned
from shared.errors import Conflict, NotFound
from shared.events.envelope import utcnow
from shared.scope import require_role

from ..documents import Review
from ..published import REVIEW_RESOLVED, review_data
from . import access
from .context import Context, Found


def listing(ctx: Context, org_id: str | None, status: str) -> Found:
    """Reviews in a subtree (the caller's own by default) with this status (staff)."""
    org = access.subtree_root(ctx, org_id)
    return Found(Review.objects(org_path=str(org.pk), status=status),
                 access.within(ctx, str(org.pk), lambda r: r.org_path))


def resolve(ctx: Context, review_id: str, outcome: str, note: str | None) -> Review:
    """Close an open review with its outcome (staff of its branch or above)."""
    require_role(ctx.who, "operator", "admin")
    review = Review.objects(pk=review_id).first()
    if review is None or not access.sees(ctx, review.org_path):
        raise NotFound("review not found")
    if review.status != "open":
        raise access.in_state("status", "the review is already resolved", "Resolved.")
    sets = {"status": "resolved", "resolved_at": utcnow(), "resolved_by": ctx.who.sub, "outcome": outcome,
            "note": note}
    if not versioned.write(review, [(REVIEW_RESOLVED, review_data)], conditions={"status": "open"}, sets=sets):
        raise Conflict("the review was resolved meanwhile")
    return review
