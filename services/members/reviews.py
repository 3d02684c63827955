"""The daily six-month check (章程 art. 5): open an "education pending" review
for each active member with six consecutive months without dues and without
taking part in union life. It never changes a status and never deletes."""
from __future__ import annotations

from datetime import datetime

from shared.db import is_duplicate_key
from shared.events.envelope import utcnow

from . import domain
from .documents import DuesAccount, Member, Participation, Review
from .published import REVIEW_OPENED, review_data


def current_month(now: datetime | None = None) -> str:
    return domain.month_of(now or utcnow())


def open_education_reviews(evaluated_month: str | None = None) -> int:
    month = evaluated_month or current_month()
    window = domain.window_before(month)
    paid = {raw["member_id"] for raw in DuesAccount._get_collection().find(
        {"month": {"$in": window}, "paid_fen": {"$gt": 0}}, {"member_id": 1})}
    took_part = {raw["member_id"] for raw in Participation._get_collection().find(
        {"month": {"$in": window}}, {"member_id": 1})}
    already_open = {raw["member_id"] for raw in Review._get_collection().find({"status": "open"}, {"member_id": 1})}
    opened = 0
    for raw in Member._get_collection().find({"status": "active"}, {"name": 1, "status": 1, "kept_reason": 1,
                                                                   "joined_at": 1, "org_id": 1, "org_path": 1}):
        member_id = str(raw["_id"])
        if member_id in already_open or not raw.get("joined_at"):
            continue
        if not domain.needs_education_review(raw["status"], bool(raw.get("kept_reason")),
                                             domain.month_of(raw["joined_at"]),
                                             {m for m in window if member_id in paid},
                                             {m for m in window if member_id in took_part}, month):
            continue
        review = Review(id=f"{member_id}:{month}", member_id=member_id, member_name=raw["name"],
                        org_id=raw["org_id"], org_path=raw["org_path"], evaluated_month=month, window=window,
                        opened_at=utcnow())
        review.record(REVIEW_OPENED, review_data(review))
        try:
            review.save(force_insert=True)
            opened += 1
        except Exception as exc:
            if not is_duplicate_key(exc):
                raise  # a second run for the same month opens nothing new
    return opened
