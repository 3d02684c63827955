"""Announcements (厂务公开, 校务公开, 工会简报): staff send one to a subtree, narrowed by gender and
employment type; the worker delivers it in batches from the recipients read model, idempotent on a retry
after a crash; staff see how many received and read it. 10,000 members work."""
from __future__ import annotations

import time

import pytest

from services.notify.app.fanout import fan_out
from services.notify.documents import Announcement, InboxMessage
from tests.integration import notify_seed as seed

pytestmark = pytest.mark.integration


def _announce(notify, headers, org_id, **extra):
    body = {"org_id": org_id, "kind": "factory_affairs", "title": "2026年度厂务公开", "body": "年度福利费使用情况公示",
            **extra}
    response = notify.post("/api/v1/announcements", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_an_announcement_reaches_its_subtree_narrowed_and_counts_reads(notify, bearer):
    ids = seed.orgs(("fed", "a", "b"))
    path_a = [ids["fed"], ids["a"]]
    women = seed.recipients(path_a, 7)
    men_gig = seed.recipients(path_a, 3, gender="male", employment_type="gig")
    seed.recipients(path_a, 2, status="left")
    elsewhere = seed.recipients([ids["fed"], ids["b"]], 4)
    staff = bearer("admin", ids["a"])
    everyone = _announce(notify, staff, ids["a"])
    narrowed = _announce(notify, staff, ids["a"], kind="newsletter", genders=["male"], employment_types=["gig"])
    assert everyone["status"] == "sending" and everyone["recipients"] == 0
    assert fan_out(batch=4) == 3 + 1  # 10 active members in pages of 4, then 3 in one page
    got = notify.get(f"/api/v1/announcements/{everyone['id']}", headers=staff).json
    assert (got["status"], got["recipients"], got["read"]) == ("sent", 10, 0) and got["sent_at"]
    assert notify.get(f"/api/v1/announcements/{narrowed['id']}", headers=staff).json["recipients"] == 3
    assert {m.member_id for m in InboxMessage.objects(announcement_id=everyone["id"])} == set(women + men_gig)
    assert InboxMessage.objects(member_id__in=elsewhere).count() == 0
    # reads are counted once each, by one message or all at once
    reader = bearer("member", ids["a"], sub=men_gig[0])
    items = notify.get("/api/v1/inbox", headers=reader).json["items"]
    assert {i["category"] for i in items} == {"announcements"} and len(items) == 2
    notify.post(f"/api/v1/inbox/{items[0]['id']}/read", headers=reader)
    notify.post(f"/api/v1/inbox/{items[0]['id']}/read", headers=reader)
    assert notify.post("/api/v1/inbox/read-all", json={}, headers=reader).json == {"marked": 1}
    notify.post("/api/v1/inbox/read-all", json={}, headers=bearer("member", ids["a"], sub=women[0]))
    assert notify.get(f"/api/v1/announcements/{everyone['id']}", headers=staff).json["read"] == 2
    assert notify.get(f"/api/v1/announcements/{narrowed['id']}", headers=staff).json["read"] == 1
    listed = notify.get("/api/v1/announcements", headers=staff).json["items"]
    assert [a["id"] for a in listed] == [narrowed["id"], everyone["id"]]
    assert notify.get("/api/v1/announcements", headers=bearer("admin", ids["b"])).json["items"] == []


def test_only_staff_of_the_organisation_or_above_announce_and_see_it(notify, bearer):
    ids = seed.orgs(("fed", "a", "b"))
    sent = _announce(notify, bearer("admin", ids["fed"]), ids["a"])
    assert notify.post("/api/v1/announcements", json={"org_id": ids["a"], "kind": "newsletter", "title": "t",
                                                      "body": "b"}, headers=bearer("admin", ids["b"])).status_code == 404
    assert notify.post("/api/v1/announcements", json={"org_id": ids["a"], "kind": "newsletter", "title": "t",
                                                      "body": "b"}, headers=bearer("member", ids["a"], sub="m")
                       ).status_code == 403
    assert notify.post("/api/v1/announcements", json={"org_id": ids["a"], "kind": "gossip", "title": "t",
                                                      "body": "b"}, headers=bearer("admin", ids["a"])).status_code == 422
    assert notify.get(f"/api/v1/announcements/{sent['id']}", headers=bearer("admin", ids["a"])).status_code == 200
    assert notify.get(f"/api/v1/announcements/{sent['id']}", headers=bearer("admin", ids["b"])).status_code == 404


def test_a_retry_after_a_crash_delivers_nothing_twice_and_counts_exactly(notify, bearer):
    ids = seed.orgs(("fed", "a"))
    members = seed.recipients([ids["fed"], ids["a"]], 9)
    sent = _announce(notify, bearer("admin", ids["a"]), ids["a"])
    assert fan_out(batch=4, limit=1) == 1  # one page, then the worker dies
    # it died after inserting the second page but before moving the cursor on
    from services.notify.app.fanout import announcement_message
    from services.notify.consumed import deliver_many

    announcement = Announcement.objects.get(pk=sent["id"])
    second = sorted(members)[4:8]
    deliver_many([(m, [ids["fed"], ids["a"]], announcement_message(announcement, m)) for m in second],
                 announcement_id=sent["id"])
    fan_out(batch=4)
    assert InboxMessage.objects(announcement_id=sent["id"]).count() == 9
    got = Announcement.objects.get(pk=sent["id"])
    assert got.status == "sent" and got.recipients == 9 - 4  # the page delivered by the dead worker is not counted
    fan_out(batch=4)  # nothing more to do
    assert InboxMessage.objects(announcement_id=sent["id"]).count() == 9


def test_ten_thousand_members_get_an_announcement_in_batches(notify, bearer):
    ids = seed.orgs(("fed", "a", "b"))
    for org in ("a", "b"):
        for _ in range(5):
            seed.recipients([ids["fed"], ids[org]], 1000)
    seed.recipients([ids["fed"]], 500)  # members of the federation itself
    sent = _announce(notify, bearer("admin", ids["fed"]), ids["fed"])
    started = time.monotonic()
    pages = fan_out()
    took = time.monotonic() - started
    got = Announcement.objects.get(pk=sent["id"])
    assert (got.status, got.recipients) == ("sent", 10_500) and pages == 11
    assert InboxMessage.objects(announcement_id=sent["id"]).count() == 10_500
    print(f"10,500 announcement messages in {took:.1f} s ({10_500 / took:.0f}/s)")


def test_a_member_who_switched_announcements_off_gets_none_and_a_move_follows(notify, bearer):
    from services.notify.consumed import HANDLERS
    from services.notify.documents import Preference
    from shared.events.envelope import CloudEvent

    ids = seed.orgs(("fed", "a", "b"))
    quiet, keen = seed.recipients([ids["fed"], ids["a"]], 2)
    Preference(id=quiet, channels={"announcements": {"inbox": False}}).save()
    sent = _announce(notify, bearer("admin", ids["a"]), ids["a"])
    fan_out()
    assert [m.member_id for m in InboxMessage.objects(announcement_id=sent["id"])] == [keen]
    # branch a moves under b: the announcement follows, b's staff see it, the federation's still do
    moved = CloudEvent(type="gonghui.members.organisation.moved", source="/gonghui/members", subject=ids["a"],
                       data={"org_id": ids["a"], "name": "a", "kind": "grassroots", "status": "active", "version": 2,
                             "path": [ids["fed"], ids["b"], ids["a"]], "old_path": [ids["fed"], ids["a"]]})
    HANDLERS[moved.type](moved)
    assert notify.get(f"/api/v1/announcements/{sent['id']}", headers=bearer("admin", ids["b"])).status_code == 200
    assert [a["id"] for a in notify.get("/api/v1/announcements", headers=bearer("admin", ids["b"])).json["items"]] == [
        sent["id"]]
