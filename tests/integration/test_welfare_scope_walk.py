"""Every welfare route, called by staff of another branch with branch A's objects: all 404, lists without
them; and a member token does what a member does (its own applications and file, objections to others'
files) and nothing else."""
from __future__ import annotations

import pytest

from shared.events.envelope import utcnow
from tests.helpers import api_routes, call_route
from tests.integration import welfare_seed as seed

pytestmark = pytest.mark.integration

welfare_app, wf = seed.welfare_app, seed.wf

YEAR = utcnow().year
BODIES = {  # a valid body for each route that names an object, so that scope (not validation) decides
    ("GET", "/api/v1/budgets/<budget_id>"): None,
    ("POST", "/api/v1/ledger"): {"budget_id": "{budget_id}", "kind": "contribution", "amount_fen": 100},
    ("GET", "/api/v1/ledger/<entry_id>"): None,
    ("POST", "/api/v1/ledger/<entry_id>/reverse"): {"note": "x"},
    ("GET", "/api/v1/funds/report"): None,
    ("GET", "/api/v1/funds/export"): None,
    ("GET", "/api/v1/assistance/<application_id>"): None,
    ("POST", "/api/v1/assistance/<application_id>/review"): {},
    ("POST", "/api/v1/assistance/<application_id>/approve"): {},
    ("POST", "/api/v1/assistance/<application_id>/reject"): {"reason": "x"},
    ("POST", "/api/v1/assistance/<application_id>/disburse"): {"payment_reference": "P"},
    ("GET", "/api/v1/hardship-files/<file_id>"): None,
    ("GET", "/api/v1/hardship-files/<file_id>/details"): None,
    ("GET", "/api/v1/hardship-files/<file_id>/details-reads"): None,
    ("POST", "/api/v1/hardship-files/<file_id>/visit"): {"visited_by": "x", "visited_on": "2026-01-01",
                                                          "findings": "x"},
    ("POST", "/api/v1/hardship-files/<file_id>/notice"): None,
    ("POST", "/api/v1/hardship-files/<file_id>/notice/close"): None,
    ("POST", "/api/v1/hardship-files/<file_id>/objections"): {"text": "x"},
    ("GET", "/api/v1/hardship-files/<file_id>/objections"): None,
    ("POST", "/api/v1/hardship-files/<file_id>/approve"): {},
    ("POST", "/api/v1/hardship-files/<file_id>/reject"): {"reason": "x"},
    ("POST", "/api/v1/hardship-files/<file_id>/recheck"): {"outcome": "close"},
    ("GET", "/api/v1/objections/<objection_id>"): None,
    ("POST", "/api/v1/objections/<objection_id>/resolve"): {"upheld": False, "resolution": "x"},
    ("GET", "/api/v1/policies/<org_id>"): None,
    ("PUT", "/api/v1/policies/<org_id>"): {"branch_limit_fen": 1, "notice_days": 1},
    ("GET", "/api/v1/policies/<org_id>/life-events"): None,
    ("PUT", "/api/v1/policies/<org_id>/life-events"): {"amounts": {"marriage": 1}},
    ("GET", "/api/v1/policies/<org_id>/mutual-aid"): None,
    ("PUT", "/api/v1/policies/<org_id>/mutual-aid"): {"rate_percent": 50, "deductible_fen": 0, "cap_fen": 1,
                                                      "contribution_fen": 1},
    ("GET", "/api/v1/campaigns/<campaign_id>"): None,
    ("POST", "/api/v1/campaigns/<campaign_id>/generate"): None,
    ("POST", "/api/v1/campaigns/<campaign_id>/close"): None,
    ("GET", "/api/v1/campaigns/<campaign_id>/progress"): None,
    ("GET", "/api/v1/campaigns/<campaign_id>/visits"): None,
    ("GET", "/api/v1/campaign-visits/<visit_id>"): None,
    ("POST", "/api/v1/campaign-visits/<visit_id>/record"): {"visited_by": "x", "visited_on": "2026-01-01"},
    ("GET", "/api/v1/life-event-payments/<payment_id>"): None,
    ("GET", "/api/v1/mutual-aid/enrolments/<enrolment_id>"): None,
}
QUERIES = {("GET", "/api/v1/funds/report"): f"?org_id={{a}}&year={YEAR}",
           ("GET", "/api/v1/funds/export"): f"?org_id={{a}}&year={YEAR}"}
LISTS = {("GET", "/api/v1/budgets"), ("GET", "/api/v1/ledger"), ("GET", "/api/v1/assistance"),
         ("GET", "/api/v1/hardship-files"), ("GET", "/api/v1/campaigns"), ("GET", "/api/v1/life-event-payments"),
         ("GET", "/api/v1/mutual-aid/enrolments")}
CREATES = {("POST", "/api/v1/budgets"): {"org_id": "{a}", "year": YEAR, "category": "training", "budget_fen": 1},
           ("POST", "/api/v1/assistance"): {"member_id": "{member_id}", "kind": "medical_aid", "amount_fen": 1,
                                              "reason": "x"},
           ("POST", "/api/v1/hardship-files"): {"member_id": "{member_id}", "category": "deep",
                                                "details": seed.DETAILS},
           ("POST", "/api/v1/campaigns"): {"org_id": "{a}", "name": "x", "kind": "other", "amount_fen": 1},
           ("POST", "/api/v1/life-event-payments"): {"member_id": "{member_id}", "kind": "marriage",
                                                     "occurred_on": "2026-01-01"},
           ("POST", "/api/v1/mutual-aid/enrolments"): {"member_id": "{member_id}"},
           ("POST", "/api/v1/mutual-aid/claims"): {"member_id": "{member_id}", "expenses_fen": 1_000_000,
                                                   "admitted_on": "2026-01-01", "discharged_on": "2026-01-02",
                                                   "reason": "x"}}


@pytest.fixture
def branch_a(wf, bearer):
    orgs = seed.org_views(("fed", "a", "b"))
    staff = bearer("admin", orgs["a"])
    member = seed.member_view([orgs["fed"], orgs["a"]])
    neighbour = seed.member_view([orgs["fed"], orgs["a"]])
    budget = seed.budget(wf, staff, orgs["a"], 1_000_000)["id"]
    entry = wf.post("/api/v1/ledger", json={"budget_id": budget, "kind": "commitment", "amount_fen": 10},
                    headers=staff).json["id"]
    application = seed.apply(wf, staff, member)["id"]
    f = seed.file_on_notice(wf, staff, member)["id"]
    objection = wf.post(f"/api/v1/hardship-files/{f}/objections", json={"text": "x"},
                        headers=bearer("member", orgs["a"], sub=neighbour)).json["id"]
    seed.budget(wf, staff, orgs["a"], 1_000_000, category="condolences")
    seed.budget(wf, staff, orgs["a"], 0, category="mutual_aid")
    campaign = wf.post("/api/v1/campaigns", json={"org_id": orgs["a"], "name": "夏送清凉", "kind": "summer_cooling",
                                                   "amount_fen": 100}, headers=staff).json["id"]
    visit = wf.get(f"/api/v1/campaigns/{campaign}/visits", headers=staff).json["items"][0]["id"]
    payment = wf.post("/api/v1/life-event-payments", json={"member_id": member, "kind": "marriage",
                                                           "occurred_on": "2026-01-01"}, headers=staff).json["id"]
    assert wf.put(f"/api/v1/policies/{orgs['a']}/mutual-aid", json={
        "rate_percent": 50, "deductible_fen": 0, "cap_fen": 1_000_000, "contribution_fen": 100},
        headers=staff).status_code == 200
    enrolment = wf.post("/api/v1/mutual-aid/enrolments", json={"member_id": member}, headers=staff).json["id"]
    return {**orgs, "staff": staff, "member_id": member, "budget_id": budget, "entry_id": entry,
            "application_id": application, "file_id": f, "objection_id": objection, "org_id": orgs["a"],
            "campaign_id": campaign, "visit_id": visit, "payment_id": payment, "enrolment_id": enrolment}


def _routes(app):
    return api_routes(app)


def _call(wf, method, rule, ids, headers):
    key = (method, rule.rule)
    return call_route(wf, method, rule, ids, headers, BODIES.get(key, CREATES.get(key)), QUERIES.get(key, ""))


def test_every_route_hides_branch_a_from_staff_of_branch_b(welfare_app, wf, bearer, branch_a):
    staff_b = bearer("admin", branch_a["b"])
    walked = set()
    for method, rule in _routes(welfare_app):
        key = (method, rule.rule)
        walked.add(key)
        response = _call(wf, method, rule, branch_a, staff_b)
        if key in LISTS:
            assert response.status_code == 200 and response.json["items"] == [], key
        else:
            assert key in BODIES or key in CREATES, f"{key} is not walked: add it to BODIES"
            assert response.status_code == 404, (key, response.status_code, response.json)
            assert response.json["error"]["code"] == "not_found"
    assert walked == set(BODIES) | LISTS | set(CREATES)
    shown = wf.get(f"/api/v1/assistance/{branch_a['application_id']}", headers=branch_a["staff"]).json
    assert shown["status"] == "submitted"  # nothing changed
    assert wf.get(f"/api/v1/hardship-files/{branch_a['file_id']}", headers=branch_a["staff"]).json["status"] == \
        "in_notice"
    assert wf.get(f"/api/v1/budgets/{branch_a['budget_id']}", headers=branch_a["staff"]).json["remaining_fen"] == \
        1_000_000 - 10
    shown = wf.get(f"/api/v1/campaign-visits/{branch_a['visit_id']}", headers=branch_a["staff"]).json
    assert shown["status"] == "pending"
    assert wf.get(f"/api/v1/campaigns/{branch_a['campaign_id']}", headers=branch_a["staff"]).json["status"] == "open"


def test_a_member_does_what_a_member_does_and_nothing_else(welfare_app, wf, bearer, branch_a):
    me = bearer("member", branch_a["a"], sub=branch_a["member_id"])
    allowed = {("GET", "/api/v1/assistance"), ("GET", "/api/v1/assistance/<application_id>"),
               ("POST", "/api/v1/assistance"),  # its own (staff name the member: 403 for another)
               ("GET", "/api/v1/hardship-files"), ("GET", "/api/v1/hardship-files/<file_id>"),
               ("POST", "/api/v1/hardship-files"),  # its own: it has one already (409)
               ("POST", "/api/v1/hardship-files/<file_id>/objections"),  # not to its own file (409)
               ("GET", "/api/v1/life-event-payments"), ("GET", "/api/v1/life-event-payments/<payment_id>"),
               ("GET", "/api/v1/mutual-aid/enrolments"), ("GET", "/api/v1/mutual-aid/enrolments/<enrolment_id>"),
               ("POST", "/api/v1/mutual-aid/enrolments"),  # itself: enrolled already (409)
               ("POST", "/api/v1/mutual-aid/claims")}  # its own
    for method, rule in _routes(welfare_app):
        key = (method, rule.rule)
        if key in allowed:
            continue
        response = _call(wf, method, rule, branch_a, me)
        assert response.status_code in (403, 404), (key, response.status_code, response.json)
    assert [a["id"] for a in wf.get("/api/v1/assistance", headers=me).json["items"]] == [branch_a["application_id"]]
    assert wf.get(f"/api/v1/assistance/{branch_a['application_id']}", headers=me).status_code == 200
    assert [f["id"] for f in wf.get("/api/v1/hardship-files", headers=me).json["items"]] == [branch_a["file_id"]]
    assert wf.get(f"/api/v1/hardship-files/{branch_a['file_id']}", headers=me).status_code == 200
    assert wf.post("/api/v1/hardship-files", json={"category": "deep", "details": seed.DETAILS},
                   headers=me).status_code == 409
    assert wf.post(f"/api/v1/hardship-files/{branch_a['file_id']}/objections", json={"text": "x"},
                   headers=me).status_code == 409
    made = wf.post("/api/v1/assistance", json={"kind": "medical_aid", "amount_fen": 1, "reason": "x"}, headers=me)
    assert made.status_code == 201 and made.json["member_id"] == branch_a["member_id"]
    assert [p["id"] for p in wf.get("/api/v1/life-event-payments", headers=me).json["items"]] == [
        branch_a["payment_id"]]
    assert [e["id"] for e in wf.get("/api/v1/mutual-aid/enrolments", headers=me).json["items"]] == [
        branch_a["enrolment_id"]]
    assert wf.post("/api/v1/mutual-aid/enrolments", json={}, headers=me).status_code == 409
    claim = wf.post("/api/v1/mutual-aid/claims", json={"expenses_fen": 10_000, "admitted_on": "2026-01-01",
                                                        "discharged_on": "2026-01-02", "reason": "x"}, headers=me)
    assert claim.status_code == 201 and claim.json["kind"] == "mutual_aid"
    other = seed.member_view([branch_a["fed"], branch_a["a"]])
    assert wf.post("/api/v1/assistance", json={"member_id": other, "kind": "medical_aid", "amount_fen": 1,
                                                  "reason": "x"}, headers=me).status_code == 403
