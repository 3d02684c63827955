"""Mutual medical aid (职工医疗互助): a scheme run by an organisation for the members below it; a yearly
enrolment once per member with its contribution received into the scheme's mutual_aid budget; hospitalisation
claims reimbursed at the scheme's rate above the deductible, within the yearly cap, following the assistance
workflow (who may make each step, out of scope 404), paid from the scheme's budget; two racing approvals
cannot exceed the cap; a rejection gives the cap back."""
from __future__ import annotations

import threading

import pytest

from tests.integration import welfare_seed as seed

pytestmark = pytest.mark.integration

welfare_app, wf = seed.welfare_app, seed.wf
SCHEME = {"rate_percent": 60, "deductible_fen": 100_000, "cap_fen": 1_000_000, "contribution_fen": 5_000}


@pytest.fixture
def scheme(wf, bearer):
    orgs = seed.org_views(("fed", "a", "b"))
    fed_staff, staff = bearer("admin", orgs["fed"]), bearer("admin", orgs["a"])
    assert wf.put(f"/api/v1/policies/{orgs['fed']}/mutual-aid", json=SCHEME, headers=staff).status_code == 404
    made = wf.put(f"/api/v1/policies/{orgs['fed']}/mutual-aid", json=SCHEME, headers=fed_staff)
    assert made.status_code == 200 and made.json["set_by_org_id"] == orgs["fed"]
    seed.budget(wf, fed_staff, orgs["fed"], 3_000_000, category="mutual_aid")
    seed.budget(wf, staff, orgs["a"], 10_000_000)  # assistance: not what pays claims
    member = seed.member_view([orgs["fed"], orgs["a"]])
    return {**orgs, "staff": staff, "fed_staff": fed_staff, "staff_b": bearer("admin", orgs["b"]),
            "member_id": member, "me": bearer("member", orgs["a"], sub=member)}


def _claim(wf, headers, expenses_fen, member_id=None):
    body = {"expenses_fen": expenses_fen, "admitted_on": "2026-03-01", "discharged_on": "2026-03-10",
            "reason": "急性阑尾炎手术住院", **({"member_id": member_id} if member_id else {})}
    return wf.post("/api/v1/mutual-aid/claims", json=body, headers=headers)


def _budget(wf, headers, org_id, category="mutual_aid"):
    return next(b for b in wf.get(f"/api/v1/budgets?org_id={org_id}", headers=headers).json["items"]
                if b["category"] == category)


def test_enrolment_once_a_year_with_its_contribution(wf, bearer, scheme):
    shown = wf.get(f"/api/v1/policies/{scheme['a']}/mutual-aid", headers=scheme["staff"]).json
    assert (shown["set_by_org_id"], shown["rate_percent"]) == (scheme["fed"], 60)
    assert _claim(wf, scheme["me"], 500_000).status_code == 409  # not enrolled
    assert wf.post("/api/v1/mutual-aid/enrolments", json={"member_id": scheme["member_id"]},
                   headers=scheme["staff_b"]).status_code == 404
    enrolled = wf.post("/api/v1/mutual-aid/enrolments", json={}, headers=scheme["me"])
    assert enrolled.status_code == 201, enrolled.json
    assert (enrolled.json["contribution_fen"], enrolled.json["cap_left_fen"], enrolled.json["scheme_org_id"]) == (
        5_000, 1_000_000, scheme["fed"])
    again = wf.post("/api/v1/mutual-aid/enrolments", json={"member_id": scheme["member_id"]},
                    headers=scheme["staff"])
    assert again.status_code == 409
    budget = _budget(wf, scheme["fed_staff"], scheme["fed"])
    assert (budget["contributed_fen"], budget["remaining_fen"]) == (5_000, 3_005_000)
    entry = enrolled.json["entry_id"]
    assert wf.post(f"/api/v1/ledger/{entry}/reverse", json={"note": "x"}, headers=scheme["fed_staff"]).status_code \
        == 409  # the enrolment's workflow owns it
    suspended = seed.member_view([scheme["fed"], scheme["a"]], status="suspended")
    assert wf.post("/api/v1/mutual-aid/enrolments", json={"member_id": suspended},
                   headers=scheme["staff"]).status_code == 409
    assert wf.get(f"/api/v1/mutual-aid/enrolments/{enrolled.json['id']}", headers=scheme["staff_b"]).status_code == 404
    assert wf.get("/api/v1/mutual-aid/enrolments", headers=scheme["staff_b"]).json["items"] == []
    assert [e["id"] for e in wf.get("/api/v1/mutual-aid/enrolments", headers=scheme["me"]).json["items"]] == [
        enrolled.json["id"]]


def test_a_claim_follows_the_assistance_workflow_and_is_paid_by_the_scheme(wf, scheme):
    from services.welfare.documents import Application, LedgerEntry

    wf.post("/api/v1/mutual-aid/enrolments", json={}, headers=scheme["me"])
    assert _claim(wf, scheme["me"], 100_000).status_code == 422  # not above the deductible
    made = _claim(wf, scheme["me"], 600_000)
    assert made.status_code == 201, made.json
    claim = made.json
    assert (claim["kind"], claim["amount_fen"], claim["status"], claim["expenses_fen"]) == (
        "mutual_aid", 300_000, "submitted", 600_000)  # 60 % of 500,000 above the deductible
    path = f"/api/v1/assistance/{claim['id']}"
    for step, body in [("review", {}), ("approve", {}), ("reject", {"reason": "x"}),
                       ("disburse", {"payment_reference": "P"})]:
        assert wf.post(f"{path}/{step}", json=body, headers=scheme["staff_b"]).status_code == 404, step
        assert wf.post(f"{path}/{step}", json=body, headers=scheme["me"]).status_code == 404, step
    assert wf.post(f"{path}/review", json={}, headers=scheme["staff"]).status_code == 200
    # over the branch's default limit of 200,000: the level above approves
    assert wf.post(f"{path}/approve", json={}, headers=scheme["staff"]).status_code == 403
    approved = wf.post(f"{path}/approve", json={}, headers=scheme["fed_staff"])
    assert approved.status_code == 200, approved.json
    enrolment = wf.get("/api/v1/mutual-aid/enrolments", headers=scheme["me"]).json["items"][0]
    assert (enrolment["cap_left_fen"], enrolment["reimbursed_fen"]) == (700_000, 300_000)
    paid = wf.post(f"{path}/disburse", json={"payment_reference": "MA-0001"}, headers=scheme["staff"])
    assert paid.status_code == 200 and paid.json["status"] == "disbursed"
    budget = _budget(wf, scheme["fed_staff"], scheme["fed"])
    assert (budget["committed_fen"], budget["disbursed_fen"]) == (300_000, 300_000)
    assert _budget(wf, scheme["staff"], scheme["a"], "assistance")["committed_fen"] == 0
    kinds = {e.kind for e in LedgerEntry.objects(application_id=Application.objects(kind="mutual_aid").first().pk)}
    assert kinds == {"commitment", "disbursement"}
    events = seed.events_of(Application, claim["id"])
    assert [t for t, _ in events] == ["application.reviewed", "application.approved", "disbursement.made"]
    assert all(d["kind"] == "mutual_aid" and d["amount_fen"] == 300_000 for _, d in events)
    assert "阑尾" not in str(events)
    # the rest of the cap: a claim due more than is left gets what is left
    big = _claim(wf, scheme["me"], 5_000_000).json
    assert big["amount_fen"] == 700_000


def test_a_rejected_claim_gives_the_cap_back_and_the_budget_refuses_overspending(wf, scheme):
    wf.post("/api/v1/mutual-aid/enrolments", json={}, headers=scheme["me"])
    first = _claim(wf, scheme["me"], 400_000).json  # 180,000
    path = f"/api/v1/assistance/{first['id']}"
    wf.post(f"{path}/review", json={}, headers=scheme["staff"])
    assert wf.post(f"{path}/approve", json={}, headers=scheme["staff"]).status_code == 200
    rejected = wf.post(f"{path}/reject", json={"reason": "x"}, headers=scheme["staff"])
    assert rejected.status_code == 409  # approved: past rejection
    second = _claim(wf, scheme["me"], 300_000).json  # 120,000
    wf.post(f"/api/v1/assistance/{second['id']}/review", json={}, headers=scheme["staff"])
    assert wf.post(f"/api/v1/assistance/{second['id']}/reject", json={"reason": "材料不全"},
                   headers=scheme["staff"]).status_code == 200
    enrolment = wf.get("/api/v1/mutual-aid/enrolments", headers=scheme["me"]).json["items"][0]
    assert enrolment["cap_left_fen"] == 1_000_000 - 180_000
    # a scheme's budget that cannot pay refuses, and the cap is not taken
    from services.welfare.documents import Budget

    Budget.objects(org_id=scheme["fed"], category="mutual_aid").update_one(set__remaining_fen=1_000)
    third = _claim(wf, scheme["me"], 200_000).json  # 60,000
    wf.post(f"/api/v1/assistance/{third['id']}/review", json={}, headers=scheme["staff"])
    refused = wf.post(f"/api/v1/assistance/{third['id']}/approve", json={}, headers=scheme["staff"])
    assert refused.status_code == 422 and "overspent" in refused.json["error"]["message"]
    enrolment = wf.get("/api/v1/mutual-aid/enrolments", headers=scheme["me"]).json["items"][0]
    assert enrolment["cap_left_fen"] == 1_000_000 - 180_000


def test_racing_approvals_of_claims_do_not_exceed_the_cap(welfare_app, wf, scheme):
    """Eight claims of 150,000 each, approved at once against a cap of 1,000,000 (branch limit raised so the
    branch approves): six fit, two are refused, and the cap is exactly what the approved ones hold."""
    assert wf.put(f"/api/v1/policies/{scheme['a']}", json={"branch_limit_fen": 10_000_000, "notice_days": 5},
                  headers=scheme["fed_staff"]).status_code == 200
    wf.post("/api/v1/mutual-aid/enrolments", json={}, headers=scheme["me"])
    ids = []
    for _ in range(8):
        claim = _claim(wf, scheme["me"], 350_000).json  # 60 % of 250,000 = 150,000
        assert claim["amount_fen"] == 150_000
        assert wf.post(f"/api/v1/assistance/{claim['id']}/review", json={},
                       headers=scheme["staff"]).status_code == 200
        ids.append(claim["id"])
    barrier, codes = threading.Barrier(len(ids)), []

    def approve(claim_id):
        client = welfare_app.test_client()
        barrier.wait()
        codes.append(client.post(f"/api/v1/assistance/{claim_id}/approve", json={},
                                 headers=scheme["staff"]).status_code)

    threads = [threading.Thread(target=approve, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] * 6 + [422] * 2
    enrolment = wf.get("/api/v1/mutual-aid/enrolments", headers=scheme["me"]).json["items"][0]
    assert (enrolment["cap_left_fen"], enrolment["reimbursed_fen"]) == (100_000, 900_000)
    assert _budget(wf, scheme["fed_staff"], scheme["fed"])["committed_fen"] == 900_000
