"""The hardship registry: the workflow with who may make each step (out of scope: 404), the public notice
and its objections (an unresolved objection blocks approval), the level above approving, re-checks that
renew or close with the history kept, and the household's details sealed at rest, shown only to the admins
in scope with every read recorded, never in events."""
from __future__ import annotations

from datetime import timedelta

import pytest
from bson import ObjectId

from shared.events.envelope import utcnow
from tests.integration import welfare_seed as seed

pytestmark = pytest.mark.integration

welfare_app, wf = seed.welfare_app, seed.wf


@pytest.fixture
def branch(wf, bearer):
    orgs = seed.org_views(("fed", "a", "b"))
    member = seed.member_view([orgs["fed"], orgs["a"]])
    neighbour = seed.member_view([orgs["fed"], orgs["a"]])
    return {**orgs, "staff": bearer("admin", orgs["a"]), "fed_staff": bearer("admin", orgs["fed"]),
            "staff_b": bearer("admin", orgs["b"]), "member_id": member, "me": bearer("member", orgs["a"], sub=member),
            "neighbour": bearer("member", orgs["a"], sub=neighbour)}


def _post(wf, path, headers, body=None):
    return wf.post(path, json=body if body is not None else {}, headers=headers)


def test_the_whole_workflow_and_who_may_make_each_step(wf, bearer, branch):
    from services.welfare.documents import HardshipFile

    f = seed.hardship_file(wf, branch["staff"], branch["member_id"])
    assert (f["status"], f["category"], f["org_id"]) == ("submitted", "deep", branch["a"])
    path = f"/api/v1/hardship-files/{f['id']}"
    visit = {"visited_by": "王主席", "visited_on": utcnow().date().isoformat(), "findings": "住房简陋"}
    steps = [("visit", visit), ("notice", None), ("notice/close", None), ("approve", {}), ("reject", {"reason": "x"}),
             ("recheck", {"outcome": "close"})]
    for step, body in steps:
        for who in ("staff_b", "me"):
            assert _post(wf, f"{path}/{step}", branch[who], body).status_code == 404, (step, who)
    assert _post(wf, f"{path}/notice", branch["staff"]).status_code == 409  # not visited yet
    future = {**visit, "visited_on": (utcnow().date() + timedelta(days=2)).isoformat()}
    assert _post(wf, f"{path}/visit", branch["staff"], future).status_code == 409
    assert _post(wf, f"{path}/visit", branch["staff"], visit).json["status"] == "visited"
    opened = _post(wf, f"{path}/notice", branch["staff"])
    assert opened.status_code == 200 and opened.json["status"] == "in_notice"
    assert _post(wf, f"{path}/notice/close", branch["staff"]).status_code == 409  # five days to run
    assert _post(wf, f"{path}/approve", branch["fed_staff"]).status_code == 409
    seed.end_notice(f["id"])
    assert _post(wf, f"{path}/notice/close", branch["staff"]).json["status"] == "noticed"
    assert _post(wf, f"{path}/approve", branch["staff"]).status_code == 403  # the branch does not file its own
    assert _post(wf, f"{path}/reject", branch["staff"], {"reason": "x"}).status_code == 403
    approved = _post(wf, f"{path}/approve", branch["fed_staff"], {"note": "同意建档"})
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "filed" and approved.json["review_on"]
    assert [s["action"] for s in approved.json["history"]] == ["submit", "visit", "open_notice", "close_notice",
                                                                "approve"]
    types = [t for t, _ in seed.events_of(HardshipFile, f["id"])]
    assert types == ["notice.opened", "notice.closed", "hardship_file.decided"]
    # the member sees its file's state, never its details
    assert wf.get(path, headers=branch["me"]).json["status"] == "filed"
    assert wf.get(f"{path}/details", headers=branch["me"]).status_code == 403
    assert wf.get("/api/v1/hardship-files", headers=branch["neighbour"]).json["items"] == []
    assert wf.get(path, headers=branch["neighbour"]).status_code == 404


def test_an_unresolved_objection_blocks_approval(wf, bearer, branch):
    from services.welfare.documents import Objection

    f = seed.file_on_notice(wf, branch["staff"], branch["member_id"])
    path = f"/api/v1/hardship-files/{f['id']}"
    outsider = bearer("member", branch["b"], sub=seed.member_view([branch["fed"], branch["b"]]))
    assert _post(wf, f"{path}/objections", outsider, {"text": "x"}).status_code == 404  # another union
    assert _post(wf, f"{path}/objections", branch["me"], {"text": "x"}).status_code == 409  # its own file
    assert _post(wf, f"{path}/objections", branch["staff"], {"text": "x"}).status_code == 404  # members object
    lodged = _post(wf, f"{path}/objections", branch["neighbour"], {"text": "其配偶名下有商铺出租收入"})
    assert lodged.status_code == 201, lodged.json
    objection = lodged.json
    assert seed.events_of(Objection, objection["id"])[0][1].keys() == {"objection_id", "file_id", "org_id",
                                                                       "lodged_at"}
    seed.end_notice(f["id"])
    assert _post(wf, f"{path}/objections", branch["neighbour"], {"text": "late"}).status_code == 409
    closed = _post(wf, f"{path}/notice/close", branch["staff"])
    assert (closed.json["status"], closed.json["objections"], closed.json["open_objections"]) == ("noticed", 1, 1)
    blocked = _post(wf, f"{path}/approve", branch["fed_staff"])
    assert blocked.status_code == 409 and "objections" in blocked.json["error"]["fields"]

    listed = wf.get(f"{path}/objections", headers=branch["staff"]).json["items"]
    assert [(o["id"], o["text"]) for o in listed] == [(objection["id"], "其配偶名下有商铺出租收入")]
    assert wf.get(f"{path}/objections", headers=branch["staff_b"]).status_code == 404
    resolve = f"/api/v1/objections/{objection['id']}/resolve"
    assert _post(wf, resolve, branch["staff_b"], {"upheld": False, "resolution": "x"}).status_code == 404
    assert _post(wf, resolve, branch["neighbour"], {"upheld": False, "resolution": "x"}).status_code == 404
    resolved = _post(wf, resolve, branch["staff"], {"upheld": False, "resolution": "经核实商铺已于去年转让"})
    assert resolved.status_code == 200 and resolved.json["status"] == "dismissed"
    assert _post(wf, resolve, branch["staff"], {"upheld": True, "resolution": "x"}).status_code == 409
    assert wf.get(f"/api/v1/objections/{objection['id']}", headers=branch["neighbour"]).json["status"] == "dismissed"
    assert _post(wf, f"{path}/approve", branch["fed_staff"]).status_code == 200


def test_the_worker_closes_notices_that_have_run_their_days(wf, branch):
    from services.welfare.app.hardship import close_notices
    from services.welfare.documents import HardshipFile

    f = seed.file_on_notice(wf, branch["staff"], branch["member_id"])
    assert close_notices() == 0
    assert close_notices(now=utcnow() + timedelta(days=5, minutes=1)) == 1
    assert close_notices(now=utcnow() + timedelta(days=6)) == 0
    assert HardshipFile.objects(pk=ObjectId(f["id"])).first().status == "noticed"


def test_the_notice_lasts_the_days_the_level_above_set(wf, branch):
    assert wf.put(f"/api/v1/policies/{branch['a']}", json={"branch_limit_fen": 1, "notice_days": 7},
                  headers=branch["fed_staff"]).status_code == 200
    f = seed.file_on_notice(wf, branch["staff"], branch["member_id"])
    from datetime import datetime

    opens, closes = (datetime.fromisoformat(f[k]) for k in ("notice_opens_at", "notice_closes_at"))
    assert closes - opens == timedelta(days=7)


def _filed(wf, branch) -> dict:
    f = seed.file_on_notice(wf, branch["staff"], branch["member_id"])
    seed.end_notice(f["id"])
    _post(wf, f"/api/v1/hardship-files/{f['id']}/notice/close", branch["staff"])
    approved = _post(wf, f"/api/v1/hardship-files/{f['id']}/approve", branch["fed_staff"])
    assert approved.status_code == 200, approved.json
    return approved.json


def test_files_past_their_review_date_are_rechecked_renewed_or_closed(wf, bearer, branch):
    from services.welfare.documents import HardshipFile

    f = _filed(wf, branch)
    path = f"/api/v1/hardship-files/{f['id']}"
    assert wf.get("/api/v1/hardship-files?due=true", headers=branch["staff"]).json["items"] == []
    HardshipFile.objects(pk=ObjectId(f["id"])).update_one(set__review_on=utcnow().date() - timedelta(days=1))
    assert [x["id"] for x in wf.get("/api/v1/hardship-files?due=true", headers=branch["fed_staff"]).json["items"]] == [
        f["id"]]
    assert wf.get("/api/v1/hardship-files?due=true", headers=branch["staff_b"]).json["items"] == []
    again = wf.post("/api/v1/hardship-files", headers=branch["staff"], json={
        "member_id": branch["member_id"], "category": "relative", "details": seed.DETAILS})
    assert again.status_code == 409  # one file per member

    better = {**seed.DETAILS, "income_per_head_fen": 88_000, "health": "配偶已完成肾移植"}
    renewed = _post(wf, f"{path}/recheck", branch["staff"], {"outcome": "renew", "category": "relative",
                                                              "details": better})
    assert renewed.status_code == 200, renewed.json
    assert (renewed.json["status"], renewed.json["category"]) == ("filed", "relative")
    assert renewed.json["review_on"] > utcnow().date().isoformat()
    opened = wf.get(f"{path}/details", headers=branch["staff"]).json
    assert opened["details"]["income_per_head_fen"] == 88_000
    assert opened["history"][0]["details"]["health"] == seed.DETAILS["health"]  # what the re-check replaced
    closed = _post(wf, f"{path}/recheck", branch["staff"], {"outcome": "close", "note": "已脱困"})
    assert closed.json["status"] == "closed"
    assert [s["action"] for s in closed.json["history"]][-2:] == ["renew", "close"]
    decisions = [d["decision"] for t, d in seed.events_of(HardshipFile, f["id"]) if t == "hardship_file.decided"]
    assert decisions == ["approved", "renewed", "closed"]
    assert _post(wf, f"{path}/recheck", branch["staff"], {"outcome": "renew"}).status_code == 409
    assert seed.hardship_file(wf, branch["staff"], branch["member_id"])["status"] == "submitted"  # a new file


def test_a_file_is_rejected_before_filing(wf, branch):
    f = seed.hardship_file(wf, branch["me"], None)
    assert f["member_id"] == branch["member_id"]
    rejected = _post(wf, f"/api/v1/hardship-files/{f['id']}/reject", branch["staff"], {"reason": "收入高于当地低保"})
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    assert _post(wf, f"/api/v1/hardship-files/{f['id']}/visit", branch["staff"], {
        "visited_by": "x", "visited_on": utcnow().date().isoformat(), "findings": "x"}).status_code == 409


def test_details_are_sealed_at_rest_shown_to_admins_in_scope_and_every_read_recorded(wf, bearer, branch):
    from services.welfare.documents import HardshipFile, Objection

    f = seed.file_on_notice(wf, branch["staff"], branch["member_id"])
    _post(wf, f"/api/v1/hardship-files/{f['id']}/objections", branch["neighbour"], {"text": "其子已参加工作"})
    raw = str(HardshipFile._get_collection().find_one({"_id": ObjectId(f["id"])}))
    raw += str(Objection._get_collection().find_one({"file_id": ObjectId(f["id"])}))
    for clear in ("尿毒症", "租赁", "income_per_head_fen", "illness", "药费", "王主席", "其子已参加工作"):
        assert clear not in raw, clear
    path = f"/api/v1/hardship-files/{f['id']}"
    assert not {"details", "health", "causes", "household_size"} & set(wf.get(path, headers=branch["staff"]).json)
    for who in (bearer("operator"), bearer("operator", branch["a"])):
        assert wf.get(f"{path}/details", headers=who).status_code == 403
    assert wf.get(f"{path}/details", headers=branch["staff_b"]).status_code == 404
    opened = wf.get(f"{path}/details", headers=branch["fed_staff"])
    assert opened.status_code == 200
    assert opened.json["details"] == seed.DETAILS and opened.json["visit"]["visited_by"] == "王主席、李干事"
    wf.get(f"{path}/details", headers=branch["staff"])
    reads = wf.get(f"{path}/details-reads", headers=branch["staff"]).json["items"]
    assert [r["by"] for r in reads] == [f"admin:{branch['a']}", f"admin:{branch['fed']}"]
    assert wf.get(f"{path}/details-reads", headers=branch["staff_b"]).status_code == 404
    for document in (HardshipFile, Objection):
        for pk in [d.pk for d in document.objects()]:
            for _, data in seed.events_of(document, pk):
                assert not set(data) & {"details", "causes", "health", "income_per_head_fen", "household_size",
                                        "category", "text", "findings", "by_member"}
                assert "尿毒症" not in str(data)


def test_an_objection_whose_writer_died_does_not_block_the_file_forever(wf, branch):
    from services.welfare.app.hardship import QUIET, close_notices
    from services.welfare.documents import HardshipFile

    f = seed.file_on_notice(wf, branch["staff"], branch["member_id"])
    HardshipFile._get_collection().update_one({"_id": ObjectId(f["id"])}, {"$inc": {"open_objections": 1}})
    seed.end_notice(f["id"])  # the counter was raised, then the process died before writing the objection
    assert close_notices() == 1
    path = f"/api/v1/hardship-files/{f['id']}"
    assert _post(wf, f"{path}/approve", branch["fed_staff"]).status_code == 409
    close_notices(now=utcnow() + QUIET + timedelta(seconds=1))
    assert wf.get(path, headers=branch["staff"]).json["open_objections"] == 0
    assert _post(wf, f"{path}/approve", branch["fed_staff"]).status_code == 200
