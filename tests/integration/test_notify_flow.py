"""Through the real topics: the events service's registrations and a cancellation reach the registrants'
inboxes by the notify worker, each message once."""
from __future__ import annotations

import pytest
from bson import ObjectId

from tests.helpers import eventually
from tests.integration.events_seed import activity_body

pytestmark = pytest.mark.integration


def _drain(*workers, until, timeout=30.0):
    def turn():
        for worker in workers:
            worker.turn()
        return until()
    return eventually(turn, timeout=timeout, interval=0)


def test_registrants_hear_of_their_registration_and_of_the_cancellation(ev, notify, bearer, workers):
    from services.events.documents import MemberView, OrgView
    from services.notify.documents import OrgView as NotifyOrgView
    from services.notify.documents import Recipient

    fed, a = str(ObjectId()), str(ObjectId())
    for view in (OrgView, NotifyOrgView):
        view(id=fed, name="市总工会", kind="federation", path=[fed], status="active", version=1).save()
        view(id=a, name="第一中学工会", kind="grassroots", path=[fed, a], status="active", version=1).save()
    first, second = str(ObjectId()), str(ObjectId())
    for member_id, name in ((first, "王芳"), (second, "李雷")):
        MemberView(id=member_id, org_path=[fed, a], status="active", gender="female", employment_type="permanent",
                   kept=False, honours=[], version=1).save()
        Recipient(id=member_id, name=name, org_path=[fed, a], status="active", gender="female",
                  employment_type="permanent", version=1).save()
    staff = bearer("admin", a)
    activity = ev.post("/api/v1/activities", json=activity_body(a, capacity=1), headers=staff).json["id"]
    assert ev.post(f"/api/v1/activities/{activity}/publish", headers=staff).status_code == 200
    for member_id in (first, second):
        response = ev.post(f"/api/v1/activities/{activity}/registrations", json={},
                           headers=bearer("member", a, sub=member_id))
        assert response.status_code == 201, response.json
    assert ev.post(f"/api/v1/activities/{activity}/cancel", json={"reason": "场地维修"}, headers=staff).status_code == 200
    events_worker, notifier = workers("events"), workers("notify")

    def titles(member_id):
        items = notify.get("/api/v1/inbox", headers=bearer("member", a, sub=member_id)).json["items"]
        return sorted(i["title"] for i in items)

    _drain(events_worker, notifier, until=lambda: len(titles(first)) == 2 and len(titles(second)) == 2)
    assert titles(first) == ["报名成功：职工乒乓球赛", "活动取消：职工乒乓球赛"]
    assert titles(second) == ["已进入候补：职工乒乓球赛", "活动取消：职工乒乓球赛"]
    cancelled = notify.get("/api/v1/inbox", headers=bearer("member", a, sub=first)).json["items"]
    assert any("王芳，您好！" in i["body"] and "场地维修" in i["body"] for i in cancelled)
    for _ in range(3):  # nothing more arrives
        events_worker.turn()
        notifier.turn()
    assert len(titles(first)) == 2 and len(titles(second)) == 2
