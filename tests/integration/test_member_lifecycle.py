"""Applications, profile updates, status changes with history, search."""
from __future__ import annotations

import json

import pytest
from bson import ObjectId

from services.members.documents import Member
from shared.pii import Vault
from tests.helpers import member_body, use_case_context

pytestmark = pytest.mark.integration


def _outbox(member_id):
    from bson import ObjectId

    from shared.events.outbox import pending_events

    return [(e.type, e.data) for e in pending_events(Member, ObjectId(member_id))]


def test_an_application_is_approved_with_a_card_number(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    applied = members.post("/api/v1/applications", json=member_body(tree["a"], 1), headers=admin)
    assert applied.status_code == 201, applied.json
    assert applied.json["status"] == "applicant" and applied.json["card_no"] is None
    member_id = applied.json["id"]
    approved = members.post(f"/api/v1/applications/{member_id}/approve", headers=admin)
    assert approved.status_code == 200 and approved.json["status"] == "active"
    assert approved.json["card_no"].startswith("GH") and approved.json["joined_at"]
    types = [t for t, _ in _outbox(member_id)]
    assert types == ["gonghui.members.contact.changed", "gonghui.members.member.applied",
                     "gonghui.members.member.joined"]
    again = members.post(f"/api/v1/applications/{member_id}/approve", headers=admin)
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_state"


def test_a_rejected_applicant_may_apply_again_and_the_reason_is_kept(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    first = members.post("/api/v1/applications", json=member_body(tree["a"], 2), headers=admin).json
    no_reason = members.post(f"/api/v1/applications/{first['id']}/reject", json={}, headers=admin)
    assert no_reason.status_code == 422 and "reason" in no_reason.json["error"]["fields"]
    rejected = members.post(f"/api/v1/applications/{first['id']}/reject", json={"reason": "非本单位职工"},
                            headers=admin)
    assert rejected.status_code == 200 and rejected.json["application_state"] == "rejected"
    history = members.get(f"/api/v1/members/{first['id']}/history", headers=admin).json["items"]
    assert [h["action"] for h in history] == ["apply", "reject"] and history[1]["reason"] == "非本单位职工"
    second = members.post("/api/v1/applications", json=member_body(tree["a"], 2), headers=admin)
    assert second.status_code == 201
    assert members.post(f"/api/v1/applications/{first['id']}/approve", headers=admin).status_code == 409


def test_applications_are_scoped(members, tree, bearer):
    applied = members.post("/api/v1/applications", json=member_body(tree["b"], 3),
                           headers=bearer("admin", tree["b"])).json
    other = bearer("admin", tree["a"])
    assert members.post(f"/api/v1/applications/{applied['id']}/approve", headers=other).status_code == 404
    assert members.post("/api/v1/applications", json=member_body(tree["b"], 4), headers=other).status_code == 404


def test_profile_updates_are_published_without_personal_data(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    member = members.post("/api/v1/members", json=member_body(tree["a"], 5), headers=admin).json
    response = members.patch(f"/api/v1/members/{member['id']}",
                             json={"phone": "13900001111", "employment_type": "contract", "job": "教师"}, headers=admin)
    assert response.status_code == 200, response.json
    assert response.json["phone"] == "139****1111" and response.json["version"] == 2
    (event_type, data), (contact_type, contact) = _outbox(member["id"])[-2:]
    assert event_type == "gonghui.members.member.updated"
    assert contact_type == "gonghui.members.contact.changed" and "13900001111" not in str(contact)
    from shared.testing.fixtures import CONTACT_KEY
    assert json.loads(Vault(CONTACT_KEY).decrypt(contact["sealed"]))["phone"] == "13900001111"  # for notify only
    assert data["changed"] == ["employment_type", "job", "phone"]
    assert "13900001111" not in str(data) and "phone" not in data
    bad = members.patch(f"/api/v1/members/{member['id']}", json={"phone": "123"}, headers=admin)
    assert bad.status_code == 422 and "phone" in bad.json["error"]["fields"]
    assert members.patch(f"/api/v1/members/{member['id']}", json={"card_no": "x"}, headers=admin).status_code == 422
    unchanged = members.patch(f"/api/v1/members/{member['id']}", json={"job": "教师"}, headers=admin)
    assert unchanged.json["version"] == 2


def test_status_changes_follow_the_rules_and_keep_history(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    member_id = members.post("/api/v1/members", json=member_body(tree["a"], 6), headers=admin).json["id"]
    url = f"/api/v1/members/{member_id}/status"
    assert members.post(url, json={"action": "resume"}, headers=admin).status_code == 409  # not suspended: a state conflict
    assert members.post(url, json={"action": "suspend", "reason": "长期病假"}, headers=admin).json["status"] == "suspended"
    assert members.post(url, json={"action": "resume"}, headers=admin).json["status"] == "active"
    no_reason = members.post(url, json={"action": "keep"}, headers=admin)
    assert no_reason.status_code == 422 and "reason" in no_reason.json["error"]["fields"]
    kept = members.post(url, json={"action": "keep", "reason": "retired"}, headers=admin).json
    assert kept["status"] == "active" and kept["kept"] and kept["kept_reason"] == "retired"
    left = members.post(url, json={"action": "leave", "reason": "voluntary"}, headers=admin).json
    assert left["status"] == "left" and left["left_at"]
    assert members.post(url, json={"action": "deceased"}, headers=admin).status_code == 409
    assert members.patch(f"/api/v1/members/{member_id}", json={"job": "x"}, headers=admin).status_code == 409
    history = members.get(f"/api/v1/members/{member_id}/history", headers=admin).json["items"]
    assert [(h["action"], h["from_status"], h["to_status"]) for h in history] == [
        ("register", None, "active"), ("suspend", "active", "suspended"), ("resume", "suspended", "active"),
        ("keep", "active", "active"), ("leave", "active", "left")]
    types = [t for t, _ in _outbox(member_id)]
    assert types.count("gonghui.members.member.status_changed") == 4 and types[-1] == "gonghui.members.member.left"
    assert Member.objects(pk=member_id).first() is not None  # nothing is deleted
    own = bearer("member", tree["a"], sub=member_id)
    assert members.get(f"/api/v1/members/{member_id}/history", headers=own).status_code == 200
    assert members.post(url, json={"action": "suspend"}, headers=own).status_code == 403


def test_a_stale_writer_gets_a_conflict_not_a_lost_update(members_app, tree, bearer):
    from services.members.app.members import change
    from shared.errors import Conflict

    client = members_app.test_client()
    admin = bearer("admin", tree["a"])
    member_id = client.post("/api/v1/members", json=member_body(tree["a"], 7), headers=admin).json["id"]
    stale = Member.objects(pk=member_id).first()
    client.patch(f"/api/v1/members/{member_id}", json={"job": "新岗位"}, headers=admin)
    with pytest.raises(Conflict):
        change(use_case_context(members_app, "admin", tree["a"]), stale, "update", [], job="旧岗位")
    assert stale.job != "旧岗位" and stale.version == 1  # the loser's object is as it was read
    assert Member.objects(pk=member_id).first().job == "新岗位"


def test_search_filters_sorts_and_pages_within_scope(members, tree, bearer):
    op = bearer("operator")
    names = ["张伟", "张敏", "李娜", "王芳", "张静"]
    for n, name in enumerate(names):
        members.post("/api/v1/members", json=member_body(tree["a"], 10 + n, name=name,
                                                          employment_type="gig" if n % 2 else "contract"),
                     headers=op)
    members.post("/api/v1/members", json=member_body(tree["b"], 20, name="张三"), headers=op)
    admin_a = bearer("admin", tree["a"])
    zhang = members.get("/api/v1/members?name=张&sort=name", headers=admin_a).json["items"]
    assert [m["name"] for m in zhang] == sorted(["张伟", "张敏", "张静"])  # 张三 is in branch B
    gig = members.get("/api/v1/members?employment_type=gig", headers=admin_a).json["items"]
    assert {m["name"] for m in gig} == {"张敏", "王芳"}
    card = zhang[0]["card_no"]
    assert [m["card_no"] for m in members.get(f"/api/v1/members?card_no={card}", headers=admin_a).json["items"]] == [card]
    seen, cursor = [], None
    while True:
        url = "/api/v1/members?sort=-joined_at&limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = members.get(url, headers=admin_a).json
        seen += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 and [m["joined_at"] for m in seen] == sorted((m["joined_at"] for m in seen), reverse=True)
    everyone = members.get(f"/api/v1/members?org_id={tree['fed']}&limit=100", headers=op).json["items"]
    assert len(everyone) == 6
    assert members.get(f"/api/v1/members?org_id={tree['b']}", headers=admin_a).status_code == 404
    assert members.get("/api/v1/members?limit=1000", headers=admin_a).status_code == 422
    assert members.get("/api/v1/members?cursor=garbage", headers=admin_a).status_code == 422
    assert members.get("/api/v1/members?name[$ne]=x", headers=admin_a).status_code == 422
    assert "id_number" in everyone[0] and "*" in everyone[0]["id_number"]


def test_honours_travel_in_events(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    member_id = members.post("/api/v1/members", json=member_body(tree["a"], 40), headers=admin).json["id"]
    response = members.patch(f"/api/v1/members/{member_id}", json={"honours": ["model_worker", "model_worker"]},
                             headers=admin)
    assert response.status_code == 200 and response.json["honours"] == ["model_worker"]
    assert _outbox(member_id)[-1][1]["honours"] == ["model_worker"]
    bad = members.patch(f"/api/v1/members/{member_id}", json={"honours": ["emperor"]}, headers=admin)
    assert bad.status_code == 422 and "honours.0" in bad.json["error"]["fields"]  # the element, by its index


def test_personal_data_in_clear_for_the_member_and_its_staff_never_operators_and_every_read_is_recorded(
        members, tree, bearer):
    from services.members.documents import PiiAccess

    admin = bearer("admin", tree["a"], sub="staff-1")
    body = member_body(tree["a"], 41, email="worker41@example.cn")
    member_id = members.post("/api/v1/members", json=body, headers=admin).json["id"]
    assert members.get(f"/api/v1/members/{member_id}", headers=admin).json["phone"] == "139****0041"
    clear = members.get(f"/api/v1/members/{member_id}/personal-data", headers=admin)
    assert clear.json == {"id_number": body["id_number"], "phone": body["phone"], "email": "worker41@example.cn"}
    own = bearer("member", tree["a"], sub=member_id)
    assert members.get(f"/api/v1/members/{member_id}/personal-data", headers=own).json == clear.json
    other_member = bearer("member", tree["a"], sub=str(ObjectId()))
    assert members.get(f"/api/v1/members/{member_id}/personal-data", headers=other_member).status_code == 403
    refused = members.get(f"/api/v1/members/{member_id}/personal-data", headers=bearer("operator"))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    assert members.get(f"/api/v1/members/{member_id}/personal-data",
                       headers=bearer("admin", tree["b"])).status_code == 404
    records = PiiAccess.objects(member_id=member_id).order_by("at")
    assert [r.by for r in records] == ["staff-1", member_id]
    assert records[0].fields == ["id_number", "phone", "email"]
    assert body["phone"] not in str(records[0].to_mongo())
    # the member sees who read its data, newest first
    reads = members.get(f"/api/v1/members/{member_id}/personal-data/reads", headers=own).json["items"]
    assert [r["by"] for r in reads] == [member_id, "staff-1"] and reads[1]["by_org"] == tree["a"]
    assert members.get(f"/api/v1/members/{member_id}/personal-data/reads", headers=bearer("operator")).status_code == 403


def test_a_member_who_left_comes_back_with_the_same_record_card_and_history(members, tree, bearer):
    """The fingerprint stayed taken and there was no way back: registering or applying again now
    reinstates the same record."""
    admin_a, admin_b = bearer("admin", tree["a"]), bearer("admin", tree["b"])
    body = member_body(tree["a"], 70)
    first = members.post("/api/v1/members", json=body, headers=admin_a).json
    members.post(f"/api/v1/members/{first['id']}/status", json={"action": "leave", "reason": "voluntary"},
                 headers=admin_a)
    back = members.post("/api/v1/members", json={**body, "org_id": tree["b"], "phone": "13711112222",
                                                  "job": "司机"}, headers=admin_b)
    assert back.status_code == 201, back.json
    assert (back.json["id"], back.json["card_no"], back.json["status"]) == (first["id"], first["card_no"], "active")
    assert back.json["org_id"] == tree["b"] and back.json["job"] == "司机" and back.json["phone"] == "137****2222"
    assert back.json["left_at"] is None
    history = members.get(f"/api/v1/members/{first['id']}/history", headers=admin_b).json["items"]
    assert [h["action"] for h in history] == ["register", "leave", "rejoin"]
    types = [e.type for e in _outbox_events(first["id"])]
    assert types[-2:] == ["gonghui.members.member.joined", "gonghui.members.contact.changed"]
    # once back, registering the person again is the usual refusal
    assert members.post("/api/v1/members", json={**body, "org_id": tree["b"]}, headers=admin_b).status_code == 409


def test_a_member_who_left_may_apply_again_and_keeps_the_card_when_approved(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    body = member_body(tree["a"], 71)
    first = members.post("/api/v1/members", json=body, headers=admin).json
    members.post(f"/api/v1/members/{first['id']}/status", json={"action": "leave", "reason": "voluntary"},
                 headers=admin)
    applied = members.post("/api/v1/applications", json=body, headers=admin)
    assert applied.status_code == 201 and applied.json["id"] == first["id"]
    assert (applied.json["status"], applied.json["application_state"]) == ("applicant", "pending")
    approved = members.post(f"/api/v1/applications/{first['id']}/approve", headers=admin).json
    assert approved["status"] == "active" and approved["card_no"] == first["card_no"]


def _outbox_events(member_id):
    from shared.events.outbox import pending_events

    return pending_events(Member, ObjectId(member_id))
