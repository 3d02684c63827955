"""notify's routes: the inbox (unread count, mark read, mark all read; a member reads only its own,
staff of the branch read a member's and their organisation's), preferences (mandatory categories stay
on: 422 naming the field), templates (staff list and preview), announcements (fan-out in batches,
counters of received and read)."""
from __future__ import annotations

import pytest

from services.notify.consumed import on_notice
from tests.integration import notify_seed as seed

pytestmark = pytest.mark.integration

E, W, M = "gonghui.events.", "gonghui.welfare.", "gonghui.members."


@pytest.fixture
def world(notify):
    ids = seed.orgs()
    ids["member"] = seed.recipient([ids["fed"], ids["a"]], name="李娜")
    ids["other"] = seed.recipient([ids["fed"], ids["b"]])
    for event_type in (E + "registration.confirmed", W + "application.approved", E + "award.granted"):
        on_notice.one(seed.event(event_type, member_id=ids["member"]))
    on_notice.one(seed.event(E + "award.granted", member_id=ids["other"]))
    on_notice.one(seed.event(M + "transfer.requested", member_id=ids["other"], from_org_id=ids["b"],
                             to_org_id=ids["a"], to_org_path=[ids["fed"], ids["a"]]))
    return ids


def test_the_inbox_counts_unread_and_marks_read(notify, bearer, world):
    me = bearer("member", world["a"], sub=world["member"])
    assert notify.get("/api/v1/inbox/unread-count", headers=me).json == {"unread": 3}
    items = notify.get("/api/v1/inbox", headers=me).json["items"]
    assert [i["category"] for i in items] == ["awards", "assistance", "activities"]
    assert notify.post(f"/api/v1/inbox/{items[0]['id']}/read", headers=me).json["read_at"]
    assert notify.get(f"/api/v1/inbox/unread-count?member_id={world['member']}", headers=me).json == {"unread": 2}
    assert notify.post("/api/v1/inbox/read-all", json={}, headers=me).json == {"marked": 2}
    assert notify.post("/api/v1/inbox/read-all", json={}, headers=me).json == {"marked": 0}
    assert notify.get("/api/v1/inbox?unread=true", headers=me).json["items"] == []
    # the other member's inbox is untouched
    other = bearer("member", world["b"], sub=world["other"])
    assert notify.get("/api/v1/inbox/unread-count", headers=other).json == {"unread": 1}


def test_a_member_reads_only_its_own_and_staff_read_their_branch(notify, bearer, world):
    me = bearer("member", world["a"], sub=world["member"])
    theirs = notify.get("/api/v1/inbox", headers=bearer("member", world["b"], sub=world["other"])).json["items"]
    assert notify.get(f"/api/v1/inbox?member_id={world['other']}", headers=me).status_code == 404
    assert notify.get(f"/api/v1/inbox/unread-count?member_id={world['other']}", headers=me).status_code == 404
    assert notify.post(f"/api/v1/inbox/{theirs[0]['id']}/read", headers=me).status_code == 404
    assert notify.post("/api/v1/inbox/read-all", json={"member_id": world["other"]}, headers=me).status_code == 404
    staff_a, staff_b = bearer("admin", world["a"]), bearer("admin", world["b"])
    assert notify.get(f"/api/v1/inbox/unread-count?member_id={world['member']}", headers=staff_a).json["unread"] == 3
    assert notify.get(f"/api/v1/inbox?member_id={world['member']}", headers=staff_b).status_code == 404
    assert notify.post("/api/v1/inbox/read-all", json={"member_id": world["member"]},
                       headers=staff_a).status_code == 404  # staff read, they do not mark a member's read
    assert notify.get("/api/v1/inbox", headers=staff_a).status_code == 404  # staff name the member


def test_an_organisation_inbox_is_its_staffs(notify, bearer, world):
    staff_a = bearer("admin", world["a"])
    items = notify.get(f"/api/v1/inbox?org_id={world['a']}", headers=staff_a).json["items"]
    assert [i["title"] for i in items] == ["会员转入申请待处理"] and items[0]["org_id"] == world["a"]
    assert notify.get(f"/api/v1/inbox/unread-count?org_id={world['a']}", headers=bearer("admin", world["fed"])
                      ).json == {"unread": 1}
    for who in (bearer("admin", world["b"]), bearer("member", world["a"], sub=world["member"])):
        assert notify.get(f"/api/v1/inbox?org_id={world['a']}", headers=who).status_code == 404
        assert notify.post(f"/api/v1/inbox/{items[0]['id']}/read", headers=who).status_code == 404
    assert notify.post(f"/api/v1/inbox/{items[0]['id']}/read", headers=staff_a).json["read_at"]


def test_preferences_keep_mandatory_categories_on(notify, bearer, world):
    me = bearer("member", world["a"], sub=world["member"])
    url = f"/api/v1/preferences/{world['member']}"
    got = notify.get(url, headers=me).json
    assert got["quiet_start"] == "22:00" and got["quiet_end"] == "07:00"
    assert got["channels"]["activities"] == {"inbox": True, "email": False, "sms": False}
    assert got["mandatory"] == ["assistance", "congress", "notices"]
    refused = notify.put(url, json={"channels": {"congress": {"inbox": False}}}, headers=me)
    assert refused.status_code == 422 and "channels.congress.inbox" in refused.json["error"]["fields"]
    refused = notify.put(url, json={"quiet_start": "7pm"}, headers=me)
    assert refused.status_code == 422 and "quiet_start" in refused.json["error"]["fields"]
    changed = notify.put(url, json={"channels": {"activities": {"inbox": False, "email": True}},
                                    "quiet_start": "23:00", "quiet_end": "06:30"}, headers=me).json
    assert changed["channels"]["activities"] == {"inbox": False, "email": True, "sms": False}
    assert (changed["quiet_start"], changed["quiet_end"]) == ("23:00", "06:30")
    changed = notify.put(url, json={"channels": {"awards": {"sms": True}}}, headers=me).json
    assert changed["channels"]["activities"]["email"] is True  # left out, kept
    on_notice.one(seed.event(E + "registration.promoted", member_id=world["member"]))
    assert notify.get("/api/v1/inbox/unread-count", headers=me).json == {"unread": 3}  # switched off: not delivered
    # staff of the branch read them, change nothing; others see nothing
    assert notify.get(url, headers=bearer("admin", world["a"])).status_code == 200
    assert notify.put(url, json={}, headers=bearer("admin", world["a"])).status_code == 404
    assert notify.get(url, headers=bearer("admin", world["b"])).status_code == 404
    assert notify.get(url, headers=bearer("member", world["b"], sub=world["other"])).status_code == 404


def test_staff_list_and_preview_templates(notify, bearer, world):
    staff = bearer("admin", world["a"])
    items = notify.get("/api/v1/templates", headers=staff).json["items"]
    by_type = {t["event_type"]: t for t in items}
    assert by_type[E + "congress.session_called"]["mandatory"] is True
    assert by_type[M + "transfer.requested"]["audience"] == "org"
    preview = notify.get(f"/api/v1/templates/{E}activity.cancelled/preview?channel=sms", headers=staff).json
    assert preview["body"].startswith("【工会】") and "2026年12月5日 09:00" in preview["body"]
    english = notify.get(f"/api/v1/templates/{W}application.approved/preview?language=en", headers=staff).json
    assert english["title"] == "Application approved: medical aid" and english["language"] == "en"
    assert notify.get("/api/v1/templates/nothing.such/preview", headers=staff).status_code == 404
    assert notify.get("/api/v1/templates", headers=bearer("member", world["a"], sub=world["member"])).status_code == 403


def test_a_token_bound_to_a_closed_organisation_acts_for_nobody(notify, bearer, world):
    from services.notify.documents import OrgView

    staff, member = bearer("admin", world["a"]), bearer("member", world["a"], sub=world["member"])
    assert notify.get("/api/v1/inbox", headers=member).status_code == 200
    OrgView.objects(pk=world["a"]).update(set__status="closed")
    for headers in (staff, member):
        answer = notify.get("/api/v1/inbox/unread-count", headers=headers)
        assert answer.status_code == 401 and answer.json["error"]["code"] == "unauthenticated"
    assert notify.get(f"/api/v1/inbox?member_id={world['member']}", headers=bearer("admin", world["fed"])).status_code == 200
