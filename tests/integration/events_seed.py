"""The events service's read models seeded directly, as its worker would keep them from the members topic."""
from __future__ import annotations

from datetime import timedelta

from shared.events.envelope import isoformat, utcnow
from tests.helpers import seed_member_view, seed_org_views


def org_views(names=("fed", "a", "b")) -> dict:
    from services.events.documents import OrgView

    return seed_org_views(OrgView, names)


def member_view(org_path, **overrides) -> str:
    from services.events.documents import MemberView

    return seed_member_view(MemberView, org_path, **{"honours": [], **overrides})


def activity_body(organiser_id, **overrides) -> dict:
    """Registration open now, check-in open now (the activity starts within the hour)."""
    now = utcnow()
    return {"organiser_id": organiser_id, "title": "职工乒乓球赛", "kind": "sports_meet", "venue": "职工之家",
            "registration_opens_at": isoformat(now - timedelta(hours=1)),
            "registration_closes_at": isoformat(now + timedelta(hours=2)),
            "cancellation_deadline": isoformat(now + timedelta(minutes=20)),
            "starts_at": isoformat(now + timedelta(minutes=30)), "ends_at": isoformat(now + timedelta(hours=3)),
            **overrides}
