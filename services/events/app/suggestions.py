"""Suggestions (合理化建议): any member proposes an improvement; staff of its branch review it, adopted
or not, with an optional reward in integer fen."""
from __future__ import annotations

from bson import ObjectId

from shared import versioned
from shared.errors import NotFound, in_state
from shared.events.envelope import utcnow

from ..documents import Suggestion
from ..published.activities import SUGGESTION_REVIEWED, suggestion_reviewed
from . import access
from .context import Context, Found


def submit(ctx: Context, title: str, content: str) -> Suggestion:
    """A member's own suggestion (member token)."""
    member = access.me(ctx)
    if member is None:
        raise NotFound("member not found", {"member_id": ["Suggestions are a member's own."]})
    if member.status != "active":
        raise in_state("member_id", "only active members make suggestions")
    suggestion = Suggestion(id=ObjectId(), member_id=str(member.pk), org_path=list(member.org_path), title=title,
                            content=content, submitted_at=utcnow())
    suggestion.save(force_insert=True)
    return suggestion


def read(ctx: Context, suggestion_id: str) -> Suggestion:
    return access.own_or_in_scope(ctx, Suggestion, suggestion_id, "suggestion")


def listing(ctx: Context, status: str | None) -> Found:
    """Staff: suggestions from their organisation and below. A member: its own."""
    rows = access.own_or_subtree(ctx, Suggestion)
    return Found(rows.filter(status=status) if status else rows, None)


def review(ctx: Context, suggestion_id: str, adopted: bool, note: str | None, reward_fen: int | None) -> Suggestion:
    access.require_staff(ctx)
    suggestion = read(ctx, suggestion_id)
    if not access.sees(ctx, suggestion.org_path):
        raise NotFound("suggestion not found")
    if suggestion.status != "submitted":
        raise in_state("status", f"the suggestion was already reviewed ({suggestion.status})")
    if reward_fen and not adopted:
        raise in_state("reward_fen", "only an adopted suggestion is rewarded", "Not adopted.")
    sets = {"status": "adopted" if adopted else "not_adopted", "review_note": note, "reward_fen": reward_fen,
            "reviewed_by": ctx.who.sub, "reviewed_at": utcnow()}
    if not versioned.write(suggestion, [(SUGGESTION_REVIEWED, suggestion_reviewed)],
                           conditions={"status": "submitted"}, sets=sets):
        raise in_state("status", "the suggestion was reviewed meanwhile")
    return suggestion
