"""A congress across services: members registered in the members service reach the events service's read
model through the topic, are elected delegates, check in at a session, and the check-in reaches the members
service as taking part in union life (the six-month rule's participation month)."""
from __future__ import annotations

import pytest

from shared.events.envelope import utcnow
from tests.helpers import eventually, member_body

pytestmark = pytest.mark.integration


def drain(*workers, until, timeout=60.0):
    def turn():
        for worker in workers:
            worker.turn()
        return until()
    return eventually(turn, timeout=timeout, interval=0)


def test_a_delegates_check_in_reaches_the_members_service_as_union_life(members, tree, bearer, workers,
                                                                       settings_for):
    from services.events import create_app
    from services.events.documents import MemberView, OrgView
    from services.members.documents import Participation

    ev = create_app(settings_for("events")).test_client()
    admin = bearer("admin", tree["a"])
    ids = [members.post("/api/v1/members", json=member_body(tree["a"], 70 + n), headers=admin).json["id"]
           for n in range(3)]
    relay, events_worker = workers("members"), workers("events")
    drain(relay, events_worker, until=lambda: OrgView.objects(pk=tree["a"]).first()
          and MemberView.objects(pk__in=ids, status="active").count() == 3)

    congress = ev.post("/api/v1/congresses", json={"org_id": tree["a"], "kind": "teachers", "name": "教代会"},
                       headers=admin).json["id"]
    today = utcnow().date()
    term = ev.post(f"/api/v1/congresses/{congress}/terms", headers=admin,
                   json={"number": 1, "starts_on": f"{today.year - 1}-01-01",
                         "ends_on": f"{today.year + 2}-12-31"}).json["id"]
    for member_id in ids:
        assert ev.post(f"/api/v1/congress-terms/{term}/delegates", json={"member_id": member_id},
                       headers=admin).status_code == 201
    session = ev.post(f"/api/v1/congress-terms/{term}/sessions", headers=admin,
                      json={"number": 1, "held_on": today.isoformat(), "agenda": ["工作报告"]}).json["id"]
    checked = ev.post(f"/api/v1/congress-sessions/{session}/check-ins", json={},
                      headers=bearer("member", tree["a"], sub=ids[0]))
    assert checked.status_code == 200, checked.json

    drain(events_worker, relay, until=lambda: Participation.objects(member_id=ids[0]).first())
    assert Participation.objects(member_id__in=ids[1:]).count() == 0
