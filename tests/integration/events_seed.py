"""The events service's read models seeded directly, as its worker would keep them from the members topic."""
from __future__ import annotations

from datetime import timedelta

from bson import ObjectId

from shared.events.envelope import isoformat, utcnow


def org_views(names=("fed", "a", "b")) -> dict:
    """federation → branches, as OrgViews; returns {name: id}."""
    from services.events.documents import OrgView

    ids = {name: str(ObjectId()) for name in names}
    root = ids[names[0]]
    OrgView(id=root, name=names[0], kind="federation", path=[root], status="active", version=1).save()
    for name in names[1:]:
        OrgView(id=ids[name], name=name, kind="grassroots", path=[root, ids[name]], status="active", version=1).save()
    return ids


def member_view(org_path, **overrides) -> str:
    from services.events.documents import MemberView

    fields = {"status": "active", "gender": "female", "employment_type": "permanent", "kept": False, "honours": [],
              **overrides}
    return MemberView(id=str(ObjectId()), org_path=list(org_path), version=1, **fields).save().pk


def activity_body(organiser_id, **overrides) -> dict:
    """Registration open now, check-in open now (the activity starts within the hour)."""
    now = utcnow()
    return {"organiser_id": organiser_id, "title": "职工乒乓球赛", "kind": "sports_meet", "venue": "职工之家",
            "registration_opens_at": isoformat(now - timedelta(hours=1)),
            "registration_closes_at": isoformat(now + timedelta(hours=2)),
            "cancellation_deadline": isoformat(now + timedelta(minutes=20)),
            "starts_at": isoformat(now + timedelta(minutes=30)), "ends_at": isoformat(now + timedelta(hours=3)),
            **overrides}
