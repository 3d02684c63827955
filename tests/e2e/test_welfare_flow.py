"""The welfare service as separate processes (gunicorn with several workers, its worker) fed by the
members topic: twenty approvals racing over the gunicorn workers against an assistance budget that fits
five give exactly five approved and fifteen refused, and the ledger sums to the budget used."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from tests.helpers import eventually, grassroots, member_body
from tests.stacks import database

pytestmark = pytest.mark.e2e


def test_twenty_parallel_approvals_against_a_budget_that_fits_five(http, stack, serial):
    fed = http.post("members", "/api/v1/orgs", {"name": "市总工会", "kind": "federation"}, roles="operator").json()["id"]
    a = http.post("members", "/api/v1/orgs", grassroots("甲公司工会", fed, serial), roles="admin", org=fed).json()["id"]
    people = [http.post("members", "/api/v1/members", member_body(a, serial + n), roles="admin", org=a).json()["id"]
              for n in range(20)]
    db = database(stack, "welfare")
    eventually(lambda: db["member_views"].count_documents({"org_path": a, "status": "active"}) == 20
               and db["org_views"].count_documents({"_id": a}) == 1, timeout=30,
               message="the welfare read model has the branch and its active members")
    year = datetime.now(timezone.utc).year
    budget = http.post("welfare", "/api/v1/budgets", {"org_id": a, "year": year, "category": "assistance",
                                                      "budget_fen": 5 * 100_000}, roles="admin", org=a)
    assert budget.status_code == 201, budget.text
    applications = []
    for member in people:
        made = http.post("welfare", "/api/v1/assistance", {"kind": "living_subsidy", "amount_fen": 100_000,
                                                             "reason": "生活困难"}, roles="member", org=a, sub=member)
        assert made.status_code == 201, made.text
        applications.append(made.json()["id"])
        assert http.post("welfare", f"/api/v1/assistance/{applications[-1]}/review", {}, roles="admin",
                         org=a).status_code == 200

    def approve(application):
        return http.post("welfare", f"/api/v1/assistance/{application}/approve", {}, roles="admin",
                         org=a).status_code

    with ThreadPoolExecutor(20) as pool:  # to every gunicorn worker at once
        codes = list(pool.map(approve, applications))
    assert sorted(codes) == [200] * 5 + [422] * 15, codes
    entries = [e for e in db["ledger"].find({"budget_id": {"$exists": True}})
               if str(e["budget_id"]) == budget.json()["id"]]  # this test's budget: the stack is shared
    assert len(entries) == 5 and {e["kind"] for e in entries} == {"commitment"}
    assert sum(e["amount_fen"] for e in entries) == 500_000
    shown = http.get("welfare", f"/api/v1/budgets/{budget.json()['id']}", roles="admin", org=a).json()
    assert (shown["committed_fen"], shown["remaining_fen"]) == (500_000, 0)
    approved = {applications[i] for i, code in enumerate(codes) if code == 200}
    assert {str(e["application_id"]) for e in entries} == approved
