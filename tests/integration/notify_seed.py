"""notify's read models seeded directly (as its worker keeps them from the members topic) and events
built from the producers' schema examples, for the notify tests."""
from __future__ import annotations

from bson import ObjectId

from services.events import published as events_published
from services.members import published as members_published
from services.welfare import published as welfare_published
from shared.events.envelope import CloudEvent
from tests.helpers import seed_org_views

PRODUCED = {t.name: t for t in events_published.ALL + welfare_published.ALL + members_published.ALL}


def orgs(names=("fed", "a", "b")) -> dict:
    from services.notify.documents import OrgView

    return seed_org_views(OrgView, names)


def recipient(org_path, name="张三", **overrides) -> str:
    from services.notify.documents import Recipient

    fields = {"status": "active", "gender": "female", "employment_type": "permanent", **overrides}
    return Recipient(id=str(ObjectId()), name=name, org_path=list(org_path), version=1, **fields).save().pk


def recipients(org_path, count, **overrides) -> list[str]:
    """Many at once (one bulk insert)."""
    from services.notify.documents import Recipient

    fields = {"status": "active", "gender": "female", "employment_type": "permanent", **overrides}
    rows = [{"_id": str(ObjectId()), "name": f"职工{n}", "org_path": list(org_path), "version": 1, **fields}
            for n in range(count)]
    Recipient._get_collection().insert_many(rows)
    return [row["_id"] for row in rows]


def event(event_type: str, **changes) -> CloudEvent:
    """An event of a type, its data the producer's first example with ``changes``."""
    data = {**PRODUCED[event_type].schema["examples"][0], **changes}
    return CloudEvent(type=event_type, source="/gonghui/test", subject="s", data=data)


def inbox(member_id=None, org_id=None) -> list:
    from services.notify.documents import InboxMessage

    query = {"member_id": member_id} if member_id else {"org_id": org_id}
    return list(InboxMessage.objects(**query).order_by("id"))
