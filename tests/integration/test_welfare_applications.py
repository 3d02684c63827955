"""Assistance applications: every transition with who may make it (out of scope: 404), the member's own
view, active members only, one open application per kind (also when two race), yearly caps, the branch's
limit configurable per organisation, the commitment against the budget and the disbursement in the ledger,
and the events (amounts, never the member's reasons)."""
from __future__ import annotations

import threading

import pytest

from tests.integration import welfare_seed as seed

pytestmark = pytest.mark.integration

welfare_app, wf = seed.welfare_app, seed.wf


@pytest.fixture
def branch(wf, bearer):
    orgs = seed.org_views(("fed", "a", "b"))
    staff = bearer("admin", orgs["a"])
    seed.budget(wf, staff, orgs["a"], 10_000_000)
    member = seed.member_view([orgs["fed"], orgs["a"]])
    return {**orgs, "staff": staff, "fed_staff": bearer("admin", orgs["fed"]), "staff_b": bearer("admin", orgs["b"]),
            "member_id": member, "me": bearer("member", orgs["a"], sub=member)}


def _post(wf, path, headers, body=None):
    return wf.post(path, json=body if body is not None else {}, headers=headers)


def test_the_whole_workflow_and_who_may_make_each_step(wf, bearer, branch):
    from services.welfare.documents import Application, LedgerEntry

    application = seed.apply(wf, branch["me"], kind="medical_aid", amount_fen=150_000)
    assert (application["status"], application["member_id"], application["org_id"]) == (
        "submitted", branch["member_id"], branch["a"])
    path = f"/api/v1/assistance/{application['id']}"
    for step, body in [("review", {}), ("approve", {}), ("reject", {"reason": "x"}),
                       ("disburse", {"payment_reference": "P"})]:
        assert _post(wf, f"{path}/{step}", branch["staff_b"], body).status_code == 404, step  # another branch
        assert _post(wf, f"{path}/{step}", branch["me"], body).status_code == 404, step  # a member: not staff's
    assert _post(wf, f"{path}/approve", branch["staff"]).status_code == 409  # not reviewed yet
    reviewed = _post(wf, f"{path}/review", branch["staff"], {"note": "材料齐全"})
    assert reviewed.status_code == 200 and reviewed.json["status"] == "reviewed"
    assert _post(wf, f"{path}/review", branch["staff"]).status_code == 409
    assert _post(wf, f"{path}/disburse", branch["staff"], {"payment_reference": "P"}).status_code == 409
    approved = _post(wf, f"{path}/approve", branch["staff"])
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "approved" and approved.json["commitment_id"]
    assert _post(wf, f"{path}/reject", branch["staff"], {"reason": "x"}).status_code == 409
    paid = _post(wf, f"{path}/disburse", branch["staff"], {"payment_reference": "BANK-2026-0001"})
    assert paid.status_code == 200, paid.json
    assert (paid.json["status"], paid.json["payment_reference"]) == ("disbursed", "BANK-2026-0001")
    assert [s["action"] for s in paid.json["trail"]] == ["submit", "review", "approve", "disburse"]
    entries = {e.kind: e for e in LedgerEntry.objects(application_id=Application.objects.first().pk)}
    assert set(entries) == {"commitment", "disbursement"}
    for entry in entries.values():  # they follow the application's workflow, not a correction by hand
        assert wf.post(f"/api/v1/ledger/{entry.pk}/reverse", json={"note": "x"},
                       headers=branch["staff"]).status_code == 409
    assert entries["disbursement"].payment_reference == "BANK-2026-0001"
    budget = wf.get(f"/api/v1/budgets?org_id={branch['a']}", headers=branch["staff"]).json["items"][0]
    assert (budget["committed_fen"], budget["disbursed_fen"], budget["remaining_fen"]) == (
        150_000, 150_000, 10_000_000 - 150_000)

    events = seed.events_of(Application, application["id"])
    assert [t for t, _ in events] == ["application.reviewed", "application.approved", "disbursement.made"]
    assert all(d["amount_fen"] == 150_000 for _, d in events)
    assert not any("reason" in d or "家庭" in str(d) for _, d in events)  # the member's reasons stay here
    # the member sees its own, and only its own
    assert wf.get(path, headers=branch["me"]).json["status"] == "disbursed"
    assert [a["id"] for a in wf.get("/api/v1/assistance", headers=branch["me"]).json["items"]] == [application["id"]]
    other = bearer("member", branch["a"], sub=seed.member_view([branch["fed"], branch["a"]]))
    assert wf.get(path, headers=other).status_code == 404
    assert wf.get("/api/v1/assistance", headers=other).json["items"] == []


def test_a_rejection_gives_the_reason_and_frees_the_kind(wf, branch):
    from services.welfare.documents import Application

    first = seed.apply(wf, branch["staff"], branch["member_id"], kind="emergency_aid", amount_fen=50_000)
    again = wf.post("/api/v1/assistance", headers=branch["me"],
                    json={"kind": "emergency_aid", "amount_fen": 1_000, "reason": "x"})
    assert again.status_code == 409 and again.json["error"]["fields"] == {"kind": ["Open."]}
    assert seed.apply(wf, branch["me"], kind="living_subsidy")["status"] == "submitted"  # another kind
    rejected = _post(wf, f"/api/v1/assistance/{first['id']}/reject", branch["staff"], {"reason": "不符合临时救助条件"})
    assert rejected.status_code == 200
    assert (rejected.json["status"], rejected.json["rejection_reason"]) == ("rejected", "不符合临时救助条件")
    assert seed.events_of(Application, first["id"])[-1][1]["reason"] == "不符合临时救助条件"
    assert seed.apply(wf, branch["me"], kind="emergency_aid", amount_fen=1_000)["status"] == "submitted"


def test_two_racing_applications_of_one_kind_give_one(welfare_app, branch):
    barrier, codes = threading.Barrier(8), []

    def submit():
        client = welfare_app.test_client()
        barrier.wait()
        codes.append(client.post("/api/v1/assistance", headers=branch["me"], json={
            "kind": "medical_aid", "amount_fen": 10_000, "reason": "住院"}).status_code)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201] + [409] * 7


def test_active_members_only_and_staff_only_in_their_scope(wf, bearer, branch):
    suspended = seed.member_view([branch["fed"], branch["a"]], status="suspended")
    refused = wf.post("/api/v1/assistance", headers=branch["staff"],
                      json={"member_id": suspended, "kind": "living_subsidy", "amount_fen": 1_000, "reason": "x"})
    assert refused.status_code == 409 and "active" in refused.json["error"]["message"]
    assert wf.post("/api/v1/assistance", headers=branch["staff_b"], json={
        "member_id": branch["member_id"], "kind": "living_subsidy", "amount_fen": 1_000,
        "reason": "x"}).status_code == 404
    other = seed.member_view([branch["fed"], branch["a"]])
    assert wf.post("/api/v1/assistance", headers=branch["me"], json={
        "member_id": other, "kind": "living_subsidy", "amount_fen": 1_000, "reason": "x"}).status_code == 403


def test_an_education_grant_names_the_child_school_and_year(wf, branch):
    body = {"kind": "education_grant", "amount_fen": 300_000, "reason": "子女考入大学"}
    missing = wf.post("/api/v1/assistance", headers=branch["me"], json=body)
    assert missing.status_code == 422 and "child_school" in missing.json["error"]["fields"]
    made = seed.apply(wf, branch["me"], **{**body, "child_school": "浙江大学", "child_admission_year": seed.YEAR})
    assert (made["child_school"], made["child_admission_year"]) == ("浙江大学", seed.YEAR)
    wrong = wf.post("/api/v1/assistance", headers=branch["me"], json={
        "kind": "medical_aid", "amount_fen": 1, "reason": "x", "child_school": "浙江大学"})
    assert wrong.status_code == 422


def test_yearly_caps_per_kind_and_member_set_by_the_level_above(wf, branch):
    policy = {"branch_limit_fen": 500_000, "caps": {"living_subsidy": 300_000}, "notice_days": 3}
    assert wf.put(f"/api/v1/policies/{branch['a']}", json=policy, headers=branch["staff"]).status_code == 403
    set_ = wf.put(f"/api/v1/policies/{branch['a']}", json=policy, headers=branch["fed_staff"])
    assert set_.status_code == 200, set_.json
    assert (set_.json["caps"]["living_subsidy"], set_.json["set_by_org_id"]) == (300_000, branch["a"])
    assert wf.get(f"/api/v1/policies/{branch['a']}", headers=branch["staff"]).json["caps"]["living_subsidy"] == 300_000
    assert wf.get(f"/api/v1/policies/{branch['a']}", headers=branch["staff_b"]).status_code == 404

    first = seed.reviewed(wf, branch["staff"], branch["member_id"], amount_fen=200_000)
    assert _post(wf, f"/api/v1/assistance/{first['id']}/approve", branch["staff"]).status_code == 200
    still_open = wf.post("/api/v1/assistance", headers=branch["me"],
                         json={"kind": "living_subsidy", "amount_fen": 50_000, "reason": "x"})
    assert still_open.status_code == 409  # the first is still open (approved, not yet paid)
    assert _post(wf, f"/api/v1/assistance/{first['id']}/disburse", branch["staff"],
                 {"payment_reference": "P1"}).status_code == 200
    over = wf.post("/api/v1/assistance", headers=branch["me"],
                   json={"kind": "living_subsidy", "amount_fen": 100_001, "reason": "x"})
    assert over.status_code == 422 and "cap" in over.json["error"]["message"]
    assert seed.apply(wf, branch["me"], amount_fen=100_000)["status"] == "submitted"  # exactly up to the cap
    assert seed.apply(wf, branch["me"], kind="medical_aid", amount_fen=400_000)["status"] == "submitted"


def test_over_the_branch_limit_the_level_above_approves(wf, bearer, branch):
    wf.put(f"/api/v1/policies/{branch['a']}", json={"branch_limit_fen": 100_000, "notice_days": 5},
           headers=branch["fed_staff"])
    big = seed.reviewed(wf, branch["staff"], branch["member_id"], kind="medical_aid", amount_fen=100_001)
    assert _post(wf, f"/api/v1/assistance/{big['id']}/approve", branch["staff"]).status_code == 403
    assert _post(wf, f"/api/v1/assistance/{big['id']}/reject", branch["staff"], {"reason": "x"}).status_code == 403
    assert _post(wf, f"/api/v1/assistance/{big['id']}/approve", branch["staff_b"]).status_code == 404
    approved = _post(wf, f"/api/v1/assistance/{big['id']}/approve", branch["fed_staff"])
    assert approved.status_code == 200, approved.json
    assert approved.json["trail"][-1]["by"] == f"admin:{branch['fed']}"
    small = seed.reviewed(wf, branch["staff"], branch["member_id"], kind="living_subsidy", amount_fen=100_000)
    assert _post(wf, f"/api/v1/assistance/{small['id']}/approve", branch["staff"]).status_code == 200


def test_an_approval_without_a_budget_or_past_it_is_refused(wf, bearer):
    orgs = seed.org_views(("fed", "a"))
    staff = bearer("admin", orgs["a"])
    member = seed.member_view([orgs["fed"], orgs["a"]])
    application = seed.reviewed(wf, staff, member, amount_fen=50_000)
    none = _post(wf, f"/api/v1/assistance/{application['id']}/approve", staff)
    assert none.status_code == 422 and "budget" in none.json["error"]["message"]
    seed.budget(wf, staff, orgs["a"], 49_999)
    assert _post(wf, f"/api/v1/assistance/{application['id']}/approve", staff).status_code == 422
    assert wf.get(f"/api/v1/assistance/{application['id']}", headers=staff).json["status"] == "reviewed"
    assert wf.get(f"/api/v1/ledger?org_id={orgs['a']}", headers=staff).json["items"] == []


def test_a_rejection_winning_over_an_approval_releases_the_commitment(wf, branch, monkeypatch):
    from services.welfare.app import applications
    from services.welfare.documents import Application, LedgerEntry

    application = seed.reviewed(wf, branch["staff"], branch["member_id"], amount_fen=70_000)
    stored = Application.objects(pk=application["id"]).first()
    real_write = applications.versioned.write

    def reject_first(obj, *args, **kwargs):  # a rejection lands between the commitment and the approval
        Application.objects(pk=obj.pk).update_one(set__status="rejected", inc__version=1)
        return real_write(obj, *args, **kwargs)

    monkeypatch.setattr(applications.versioned, "write", reject_first)
    assert _post(wf, f"/api/v1/assistance/{stored.pk}/approve", branch["staff"]).status_code == 409
    monkeypatch.undo()
    kinds = sorted(e.kind for e in LedgerEntry.objects(application_id=stored.pk))
    assert kinds == ["commitment", "reversal"]
    budget = wf.get(f"/api/v1/budgets?org_id={branch['a']}", headers=branch["staff"]).json["items"][0]
    assert budget["remaining_fen"] == 10_000_000


def test_an_approval_that_died_after_committing_is_counted_once_or_released(wf, branch):
    from bson import ObjectId

    from services.welfare.app import ledger
    from services.welfare.documents import Budget, LedgerEntry

    budget = Budget.objects(org_id=branch["a"]).first()
    first = seed.reviewed(wf, branch["staff"], branch["member_id"], amount_fen=30_000)
    ledger.record(budget, "commitment", 30_000, f"commit:{first['id']}", "admin",
                  application_id=ObjectId(first["id"]))  # then the process died
    again = _post(wf, f"/api/v1/assistance/{first['id']}/approve", branch["staff"])
    assert again.status_code == 200, again.json
    assert LedgerEntry.objects(application_id=ObjectId(first["id"])).count() == 1
    assert Budget.objects(pk=budget.pk).first().committed_fen == 30_000

    second = seed.reviewed(wf, branch["staff"], branch["member_id"], kind="medical_aid", amount_fen=20_000)
    ledger.record(budget, "commitment", 20_000, f"commit:{second['id']}", "admin",
                  application_id=ObjectId(second["id"]))  # then the process died
    assert _post(wf, f"/api/v1/assistance/{second['id']}/reject", branch["staff"],
                 {"reason": "材料不实"}).status_code == 200
    assert sorted(e.kind for e in LedgerEntry.objects(application_id=ObjectId(second["id"]))) == [
        "commitment", "reversal"]
    assert Budget.objects(pk=budget.pk).first().committed_fen == 30_000


def test_an_applicants_reasons_are_sealed_at_rest_and_shown_to_whoever_may_read_it(wf, branch):
    from bson import ObjectId

    from services.welfare.documents import Application

    body = {"member_id": branch["member_id"], "kind": "medical_aid", "amount_fen": 50_000,
            "reason": "父亲住院手术，自付部分较高"}
    made = wf.post("/api/v1/assistance", json=body, headers=branch["staff"])
    assert made.status_code == 201, made.json
    raw = Application._get_collection().find_one({"_id": ObjectId(made.json["id"])})
    assert "住院" not in str(raw) and "reason" not in raw  # only the sealed form is stored
    assert wf.get(f"/api/v1/assistance/{made.json['id']}", headers=branch["staff"]).json["reason"] == body["reason"]
    assert wf.get(f"/api/v1/assistance/{made.json['id']}", headers=branch["me"]).json["reason"] == body["reason"]
    assert wf.get(f"/api/v1/assistance/{made.json['id']}", headers=branch["staff_b"]).status_code == 404
