"""Announcements reach every member in scope in batches: the worker walks the recipients of the
subtree in id order (index (org_path, _id)), a page at a time, inserts their messages in bulk, queues
the emails and SMS of those who chose them, and moves the announcement's cursor on. A retry after a
crash redoes at most one page, whose keys make the repeat a no-op; ``recipients`` counts only the inbox
messages actually inserted, so it stays exact."""
from __future__ import annotations

import logging

from shared.events.envelope import utcnow

from .. import domain
from ..documents import Announcement, Recipient
from ..domain.templates import announcement as announcement_text
from .outgoing import queue
from .reach import Reach

log = logging.getLogger(__name__)
BATCH = 1000
REACHED = ("active",)  # who hears announcements: members whose membership is active


def announcement_message(announcement: Announcement, member_id: str) -> domain.Message:
    return domain.Message(category="announcements", title=announcement.title, body=announcement.body,
                          dedupe_key=f"announcement|{announcement.pk}|{member_id}|inbox")


def _page_query(announcement: Announcement) -> dict:
    query = {"org_path": announcement.org_id, "status": {"$in": list(REACHED)}}
    if announcement.genders:
        query["gender"] = {"$in": list(announcement.genders)}
    if announcement.employment_types:
        query["employment_type"] = {"$in": list(announcement.employment_types)}
    if announcement.cursor:
        query["_id"] = {"$gt": announcement.cursor}
    return query


def send_batch(announcement: Announcement, batch: int = BATCH) -> bool:
    """One page of an announcement's fan-out; True when it has reached everyone."""
    from ..consumed import deliver_many

    rows = list(Recipient._get_collection().find(_page_query(announcement), {"org_path": 1})
                .sort("_id", 1).limit(batch))
    if rows:
        ids = [row["_id"] for row in rows]
        reach = Reach.load(ids)
        items = [(row["_id"], row.get("org_path") or [], announcement_message(announcement, row["_id"]))
                 for row in rows if reach.wants(row["_id"], "announcements", "inbox")]
        queue([delivery for row in rows for delivery in reach.deliveries(
            event_type="announcement", event_id=f"announcement:{announcement.pk}", member_id=row["_id"],
            org_path=row.get("org_path") or [], category="announcements",
            render=lambda channel: announcement_text(announcement.kind, announcement.title, announcement.body,
                                                     channel))])
        added = deliver_many(items, announcement_id=str(announcement.pk))
        Announcement.objects(pk=announcement.pk).update_one(inc__recipients=added)
        # the cursor only moves on (another worker on the same announcement may be behind)
        Announcement.objects(pk=announcement.pk, cursor__not__gte=ids[-1]).update_one(set__cursor=ids[-1])
        announcement.cursor = ids[-1]
    if len(rows) < batch:
        Announcement.objects(pk=announcement.pk, status="sending").update_one(set__status="sent",
                                                                              set__sent_at=utcnow())
        return True
    return False


def fan_out(settings=None, batch: int = BATCH, limit: int | None = None) -> int:
    """The worker's periodic job: every announcement still sending, to its end (``limit`` pages at most,
    for tests). Returns the pages sent."""
    pages = 0
    for announcement in Announcement.objects(status="sending").order_by("id"):
        while limit is None or pages < limit:
            pages += 1
            if send_batch(announcement, batch):
                break
    return pages
