"""Findings of the security review, each held by a test: scope follows the current tree during and
after a subtree move, references in bodies are checked, tokens bound to closed organisations are
refused, and bad input is a 4xx naming the field."""
from __future__ import annotations

import base64
import json
import threading
from datetime import datetime, timezone

import pytest
from bson import ObjectId

from services.members import tree as tree_module
from services.members.documents import Member, Organisation, OrgMove
from tests.helpers import grassroots, member_body
from tests.integration.test_scope_walk import objects_in_b, walk_every_route

pytestmark = pytest.mark.integration

MOVED_MEMBERS = 600  # enough that the worker is still following the move while the first walk runs


def _raw_members(org: Organisation, n: int) -> list[ObjectId]:
    """``n`` members registered at ``org``, written directly (the API would take a minute for them)."""
    now = datetime.now(timezone.utc)
    docs = [{"_id": ObjectId(), "name": f"职工{i}", "gender": "female", "id_number_fingerprint": f"fp-{org.pk}-{i}",
             "id_number_encrypted": "x", "id_number_masked": "x", "phone_encrypted": "x", "phone_masked": "x",
             "org_id": str(org.pk), "org_path": list(org.path), "employment_type": "permanent", "status": "active",
             "honours": [], "joined_at": now, "created_at": now, "version": 1} for i in range(n)]
    Member._get_collection().insert_many(docs)
    return [d["_id"] for d in docs]


def _create(members, headers, body) -> str:
    response = members.post("/api/v1/orgs", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_a_moved_subtree_leaves_the_old_ancestors_scope_at_once(members_app, members, tree, bearer):
    """B (with hundreds of members) moves from one industry union to another; the old industry's admin
    walks every route while the worker is still following the move, and again afterwards."""
    op = bearer("operator")
    industry2 = _create(members, op, {"name": "市卫生工会", "kind": "industry", "parent_id": tree["fed"]})
    ids = objects_in_b(members, tree, bearer, tree["b"])
    bulk = _raw_members(Organisation.objects(pk=tree["b"]).first(), MOVED_MEMBERS)
    members.post("/api/v1/dues/assessments", json={"month": "2026-10", "items": [
        {"member_id": ids["member"], "wage_fen": 500000}]}, headers=op)
    paid = members.post("/api/v1/dues/payments", json={"month": "2026-10", "items": [
        {"member_id": ids["member"], "amount_fen": 700}]}, headers=op)
    assert paid.status_code == 200 and "error" not in paid.json["items"][0], paid.json

    moved = members.post(f"/api/v1/orgs/{tree['b']}/move", json={"parent_id": industry2},
                         headers=bearer("admin", tree["fed"]))
    assert moved.status_code == 202, moved.json
    assert moved.json["move"]["state"] == "following"
    old, new = bearer("admin", tree["industry"]), bearer("admin", industry2)

    # before the worker has touched one copy: the old ancestor sees nothing, the new one reads every object
    walk_every_route(members_app, members, old, ids)
    for url in (f"/api/v1/members/{ids['member']}", f"/api/v1/members/{bulk[0]}", f"/api/v1/imports/{ids['job_id']}",
                f"/api/v1/transfers/{ids['transfer_id']}", f"/api/v1/members/{ids['member']}/personal-data"):
        assert members.get(url, headers=old).status_code == 404, url
        assert members.get(url, headers=new).status_code == 200, url
    report = members.get(f"/api/v1/dues/report?org_id={tree['industry']}&month=2026-10", headers=old).json
    assert report["paid_fen"] == 0, report

    follower = threading.Thread(target=tree_module.follow_moves)
    follower.start()
    walk_every_route(members_app, members, old, ids)  # while the copies are being updated
    follower.join()

    state = members.get(f"/api/v1/orgs/{tree['b']}", headers=new).json["move"]
    assert state["state"] == "done" and state["finished_at"], state
    assert state["updated"]["members"] == MOVED_MEMBERS + 2  # and the member and applicant made by the API
    assert state["updated"]["transfers"] == 2 and state["updated"]["import_jobs"] == 1, str(state["updated"])
    assert Member._get_collection().count_documents({"org_path": tree["industry"]}) == 0
    walk_every_route(members_app, members, old, ids)
    listed = members.get(f"/api/v1/members?org_id={industry2}&limit=100", headers=new).json["items"]
    assert len(listed) == 100
    assert members.get(f"/api/v1/dues/report?org_id={industry2}&month=2026-10", headers=new).json["paid_fen"] == 700
    assert tree_module.follow_moves() == 0  # nothing left to follow


def test_a_move_that_died_half_way_is_finished_by_the_worker(members, tree, bearer):
    op = bearer("operator")
    industry2 = _create(members, op, {"name": "市卫生工会", "kind": "industry", "parent_id": tree["fed"]})
    group = _create(members, op, {"name": "小组", "kind": "group", "parent_id": tree["a"]})
    member = members.post("/api/v1/members", json=member_body(group, 1), headers=op).json["id"]
    assert members.post(f"/api/v1/orgs/{tree['a']}/move", json={"parent_id": industry2},
                        headers=op).status_code == 202
    # the worker died after updating the group's path but before the member's
    OrgMove.objects(org_id=tree["a"]).update(set__updated={"organisations": 1})
    new_path = [tree["fed"], industry2, tree["a"], group]
    Organisation.objects(pk=group).update_one(set__path=new_path)
    assert Member.objects(pk=member).first().org_path == [tree["fed"], tree["industry"], tree["a"], group]
    assert members.get(f"/api/v1/members/{member}", headers=bearer("admin", tree["industry"])).status_code == 404
    assert tree_module.follow_moves() == 1
    assert Member.objects(pk=member).first().org_path == new_path
    assert OrgMove.objects(org_id=tree["a"]).first().state == "done"


def test_closing_waits_for_a_move_below_to_be_followed(members, tree, bearer):
    op = bearer("operator")
    industry2 = _create(members, op, {"name": "市卫生工会", "kind": "industry", "parent_id": tree["fed"]})
    assert members.post(f"/api/v1/orgs/{tree['a']}/move", json={"parent_id": industry2}, headers=op).status_code == 202
    refused = members.post(f"/api/v1/orgs/{industry2}/close", headers=op)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "move_in_progress"


def test_a_cadre_must_be_a_member_of_the_organisation(members, tree, bearer):
    op, admin_a = bearer("operator"), bearer("admin", tree["a"])
    in_b = members.post("/api/v1/members", json=member_body(tree["b"], 1), headers=op).json["id"]
    in_a = members.post("/api/v1/members", json=member_body(tree["a"], 2), headers=op).json["id"]
    url = f"/api/v1/orgs/{tree['a']}/cadres"
    body = {"name": "王主席", "role": "chair", "term_start": "2025-01-01"}
    for member_id in (in_b, "0" * 24, "z" * 24):
        refused = members.post(url, json={**body, "member_id": member_id}, headers=admin_a)
        assert refused.status_code == 404 and "member_id" in refused.json["error"]["fields"], refused.json
    assert members.post(url, json={**body, "member_id": in_a}, headers=admin_a).status_code == 201
    # and the federation's admin cannot make B's member a cadre of A either
    assert members.post(url, json={**body, "member_id": in_b}, headers=bearer("admin", tree["fed"])).status_code == 404


def test_closed_organisations_take_no_cadres_and_their_tokens_are_refused(members, tree, bearer):
    op = bearer("operator")
    group = _create(members, op, {"name": "小组", "kind": "group", "parent_id": tree["a"]})
    group_admin = bearer("admin", group)
    assert members.get(f"/api/v1/orgs/{group}", headers=group_admin).status_code == 200
    own = members.post(f"/api/v1/orgs/{group}/close", headers=group_admin)
    assert own.status_code == 403, own.json  # an admin does not close the organisation it is bound to
    assert members.post(f"/api/v1/orgs/{group}/close", headers=bearer("admin", tree["a"])).status_code == 200
    cadre = members.post(f"/api/v1/orgs/{group}/cadres", json={"name": "王", "role": "chair",
                                                               "term_start": "2025-01-01"}, headers=op)
    assert cadre.status_code == 409 and "status" in cadre.json["error"]["fields"]
    for headers in (group_admin, bearer("member", group), bearer("admin", str(ObjectId()))):
        refused = members.get(f"/api/v1/orgs/{tree['a']}", headers=headers)
        assert refused.status_code == 401 and refused.json["error"]["code"] == "unauthenticated", refused.json


def test_a_transfer_target_elsewhere_is_as_unknown_as_a_missing_one(members, tree, bearer):
    op = bearer("operator")
    member = members.post("/api/v1/members", json=member_body(tree["a"], 1), headers=op).json["id"]
    other_fed = _create(members, op, {"name": "外市总工会", "kind": "federation"})
    other_industry = _create(members, op, {"name": "外市教育工会", "kind": "industry", "parent_id": other_fed})
    other_union = _create(members, op, grassroots("外市中学工会", other_industry, 7))
    answers = [members.post("/api/v1/transfers", json={"member_id": member, "to_org_id": target},
                            headers=bearer("admin", tree["a"])) for target in (other_union, other_industry,
                                                                                  str(ObjectId()))]
    assert {(a.status_code, a.json["error"]["message"]) for a in answers} == {(404, "organisation not found")}


def test_a_cursor_is_a_position_never_a_query(members, tree, bearer):
    """Whatever a cursor holds, it is read as a plain (name, id) position: a forged one carrying a query
    operator pages on from wherever its bytes sort, and can neither widen nor empty the query."""
    from shared.pagination import _decode_key

    op = bearer("operator")
    names = []
    for n in range(3):
        names.append(members.post("/api/v1/members", json=member_body(tree["a"], n), headers=op).json["name"])
    for value in ({"$ne": None}, [1], {"$gt": ""}):
        cursor = base64.urlsafe_b64encode(json.dumps([value, str(ObjectId())]).encode()).decode().rstrip("=")
        response = members.get(f"/api/v1/members?org_id={tree['a']}&sort=name&cursor={cursor}", headers=op)
        assert response.status_code == 200, response.json
        after, _ = _decode_key(cursor, is_datetime=False, object_id_pk=True)
        assert [m["name"] for m in response.json["items"]] == sorted(n for n in names if n > after)
    bad = members.get(f"/api/v1/members?org_id={tree['a']}&sort=name&cursor=%7B%22%24ne%22%3A1%7D", headers=op)
    assert bad.status_code == 422 and "cursor" in bad.json["error"]["fields"]  # outside the documented pattern


def test_bad_input_is_a_4xx_naming_the_field(members, tree, bearer):
    op = bearer("operator")
    dues = members.post("/api/v1/dues/payments", json={"month": "2026-10", "items": [
        {"member_id": "z" * 24, "amount_fen": 100}]}, headers=op)
    assert dues.status_code == 200 and dues.json["items"][0]["error"] == "member not found", dues.json
    nul = members.post("/api/v1/members", json=member_body(tree["a"], 1, job="教\u0000师"), headers=op)
    assert nul.status_code == 422 and nul.json["error"]["fields"] == {"job": ["NUL characters are not accepted."]}
    nul_query = members.get(f"/api/v1/members?org_id={tree['a']}&name=%00", headers=op)
    assert nul_query.status_code == 422 and "name" in nul_query.json["error"]["fields"]
    blank = members.post("/api/v1/members", json=member_body(tree["a"], 1, name="   "), headers=op)
    assert blank.status_code == 422 and "name" in blank.json["error"]["fields"], blank.json
    blank_org = members.post("/api/v1/orgs", json={"name": " \t", "kind": "group", "parent_id": tree["a"]}, headers=op)
    assert blank_org.status_code == 422 and "name" in blank_org.json["error"]["fields"]
    nested = "[" * 50_000 + "]" * 50_000
    deep = members.post("/api/v1/members", data=nested, content_type="application/json", headers=op)
    assert deep.status_code == 400 and deep.json["error"]["code"] == "bad_request", deep.json
    deep_dict = members.post("/api/v1/members", json=json.loads('{"a":' * 100 + "1" + "}" * 100), headers=op)
    assert deep_dict.status_code == 400
    taken = members.get(f"/api/v1/orgs/{tree['a']}", headers=op).json["credit_code"]
    clash = members.patch(f"/api/v1/orgs/{tree['b']}", json={"credit_code": taken}, headers=op)
    assert clash.status_code == 409 and "credit_code" in clash.json["error"]["fields"], clash.json
    assert members.get(f"/api/v1/orgs/{tree['b']}", headers=op).json["credit_code"] != taken


def test_what_is_kept_in_clear_cannot_narrow_the_id_number(members, tree, bearer):
    """Only the birth year is stored in clear and the mask keeps the last four characters: region and
    day of birth stay open (about a million candidates)."""
    body = member_body(tree["a"], 1, id_number="11010519491231002X")
    member_id = members.post("/api/v1/members", json=body, headers=bearer("admin", tree["a"])).json["id"]
    raw = Member._get_collection().find_one({"_id": ObjectId(member_id)})
    assert "birth_date" not in raw and raw["birth_year"] == 1949
    assert raw["id_number_masked"] == "**************002X"
    clear = json.dumps({k: v for k, v in raw.items() if not k.endswith(("_encrypted", "_fingerprint"))},
                       default=str, ensure_ascii=False)
    for fragment in ("110105", "19491231", "1949-12-31"):
        assert fragment not in clear, fragment


def test_contact_details_never_travel_or_wait_in_clear(members, tree, bearer, workers, settings_for):
    from tests.helpers import read_topic

    body = member_body(tree["a"], 1, email="worker1@example.cn")
    member_id = members.post("/api/v1/members", json=body, headers=bearer("admin", tree["a"])).json["id"]
    member_db = Member._get_collection().database
    waiting = json.dumps([*member_db["outbox_pointers"].find({}, {"_id": 0}),
                          *Member._get_collection().find({}, {"outbox": 1, "_id": 0})], default=str)
    assert "contact.changed" in waiting and body["phone"] not in waiting and "worker1@" not in waiting
    relay = workers("members")
    relay.relay.run_once()
    settings = settings_for("members")
    records = read_topic(settings.kafka_bootstrap, settings.topic("gonghui.members.contacts.v1"), 1)
    assert body["phone"] not in records[0].value.decode() and "worker1@" not in records[0].value.decode()
    assert member_id in records[0].value.decode()


def test_personal_data_keys_rotate_and_fingerprints_stay(members_app, tree, bearer, settings_for, monkeypatch):
    from click.testing import CliRunner

    from services.members import create_app
    from shared.cli import cli
    from shared.pii import Vault, new_key

    old, new, mac = new_key(), new_key(), "m" * 48
    before = create_app(settings_for("members", pii_key=old, fingerprint_key=mac)).test_client()
    body = member_body(tree["a"], 1)
    member_id = before.post("/api/v1/members", json=body, headers=bearer("admin", tree["a"])).json["id"]

    settings = settings_for("members", pii_key=f"{new},{old}", fingerprint_key=mac)
    for name, value in {"GONGHUI_MONGO_URL": settings.mongo_url, "GONGHUI_DB_PREFIX": settings.db_prefix,
                        "GONGHUI_PII_KEYS": settings.pii_key, "GONGHUI_FINGERPRINT_KEY": mac}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["rotate-keys", "members"])
    assert result.exit_code == 0 and "members: 1 re-encrypted" in result.output, result.output

    raw = Member._get_collection().find_one({"_id": ObjectId(member_id)})
    assert Vault(new).decrypt(raw["id_number_encrypted"]) == body["id_number"]  # the old key is no longer needed
    after = create_app(settings_for("members", pii_key=new, fingerprint_key=mac)).test_client()
    admin = bearer("admin", tree["a"])
    assert after.get(f"/api/v1/members/{member_id}/personal-data", headers=admin).json["phone"] == body["phone"]
    again = after.post("/api/v1/members", json=member_body(tree["a"], 2, id_number=body["id_number"]), headers=admin)
    assert again.status_code == 409  # the same person is still recognised


def test_already_registered_is_recorded_and_rationed_per_caller(tree, bearer, settings_for):
    from services.members import create_app
    from services.members.documents import UniquenessRefusal

    members = create_app(settings_for("members", refusals_per_hour=2)).test_client()
    admin_a, admin_b = bearer("admin", tree["a"], sub="staff-a"), bearer("admin", tree["b"], sub="staff-b")
    body = member_body(tree["a"], 1)
    assert members.post("/api/v1/members", json=body, headers=admin_a).status_code == 201
    probe = {**body, "org_id": tree["b"]}
    answers = [members.post("/api/v1/members", json=probe, headers=admin_b) for _ in range(3)]
    assert [a.status_code for a in answers] == [409, 409, 429], [a.json for a in answers]
    assert answers[0].json["error"]["message"] == "this ID number is already registered with another union organisation"
    # once rationed, every registration by that caller waits for the next hour: 429 tells nothing
    fresh = members.post("/api/v1/members", json=member_body(tree["b"], 2), headers=admin_b)
    assert fresh.status_code == 429
    assert members.post("/api/v1/members", json=member_body(tree["a"], 3), headers=admin_a).status_code == 201
    refusals = UniquenessRefusal.objects(by="staff-b")
    assert refusals.count() == 3 and all(r.by_org == tree["b"] for r in refusals)
    assert body["id_number"] not in str([r.to_mongo() for r in refusals])


def test_another_process_sees_a_move_from_its_answer_on(members, tree, bearer, settings_for):
    """Each web process caches parent links; a move or close made by another process is seen at once."""
    from services.members import create_app

    other_process = create_app(settings_for("members")).test_client()
    op, old = bearer("operator"), bearer("admin", tree["industry"])
    industry2 = _create(members, op, {"name": "市卫生工会", "kind": "industry", "parent_id": tree["fed"]})
    member = members.post("/api/v1/members", json=member_body(tree["a"], 1), headers=op).json["id"]
    assert members.get(f"/api/v1/members/{member}", headers=old).status_code == 200  # cached here
    assert other_process.post(f"/api/v1/orgs/{tree['a']}/move", json={"parent_id": industry2},
                              headers=op).status_code == 202
    assert members.get(f"/api/v1/members/{member}", headers=old).status_code == 404
    group = _create(members, op, {"name": "小组", "kind": "group", "parent_id": tree["b"]})
    group_admin = bearer("admin", group)
    assert members.get(f"/api/v1/orgs/{group}", headers=group_admin).status_code == 200  # cached here
    assert other_process.post(f"/api/v1/orgs/{group}/close", headers=op).status_code == 200
    assert members.get(f"/api/v1/orgs/{group}", headers=group_admin).status_code == 401




def test_a_registration_sees_another_process_s_rename_and_close_from_its_answer_on(members, tree, bearer,
                                                                                   settings_for):
    """A registration takes its organisation from the process's cache: a rename or a close made by
    another process is seen by the next registration, not a stale name or a closed union."""
    from services.members import create_app
    from shared.events.outbox import pending_events

    other_process = create_app(settings_for("members")).test_client()
    op = bearer("operator")
    group = _create(members, op, {"name": "一组", "kind": "group", "parent_id": tree["a"]})

    def joined(n):
        answer = members.post("/api/v1/members", json=member_body(group, n), headers=op)
        assert answer.status_code == 201, answer.json
        events = pending_events(Member, ObjectId(answer.json["id"]))
        return answer.json["id"], next(e.data["org_name"] for e in events if e.type == "gonghui.members.member.joined")

    first, name = joined(1)
    assert name == "一组"  # cached here
    assert other_process.patch(f"/api/v1/orgs/{group}", json={"name": "第一小组"}, headers=op).status_code == 200
    second, name = joined(2)
    assert name == "第一小组"
    for member_id in (first, second):
        assert other_process.post(f"/api/v1/members/{member_id}/status", json={"action": "leave", "reason": "voluntary"},
                                  headers=op).status_code == 200
    assert other_process.post(f"/api/v1/orgs/{group}/close", headers=op).status_code == 200
    refused = members.post("/api/v1/members", json=member_body(group, 3), headers=op)
    assert refused.status_code == 409 and "org_id" in refused.json["error"]["fields"], refused.json
def test_members_from_before_keep_only_their_birth_year(members, tree, bearer):
    from datetime import datetime

    from services.members.migrations import forget_birth_dates

    body = member_body(tree["a"], 1, id_number="11010519491231002X")
    member_id = members.post("/api/v1/members", json=body, headers=bearer("admin", tree["a"])).json["id"]
    Member._get_collection().update_one({"_id": ObjectId(member_id)}, {  # as an earlier version wrote it
        "$set": {"birth_date": datetime(1949, 12, 31, tzinfo=timezone.utc), "id_number_masked": "110***********002X"},
        "$unset": {"birth_year": ""}})
    assert forget_birth_dates(members.application.extensions["gonghui.vault"]) == 1
    raw = Member._get_collection().find_one({"_id": ObjectId(member_id)})
    assert "birth_date" not in raw and raw["birth_year"] == 1949 and raw["id_number_masked"] == "**************002X"
    assert forget_birth_dates(members.application.extensions["gonghui.vault"]) == 0
