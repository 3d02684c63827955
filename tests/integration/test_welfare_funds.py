"""Union funds: budgets in scope, the append-only ledger (a reversal restores the balance; no route and
no code path updates or deletes an entry), overspending refused atomically under 20 racing approvals, a
crash between a budget's counters and its entry repaired, budget versus actual and the export."""
from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta

import pytest
from bson import ObjectId

from shared.events.envelope import utcnow
from tests.integration import welfare_seed as seed

pytestmark = pytest.mark.integration

welfare_app, wf = seed.welfare_app, seed.wf


@pytest.fixture
def orgs():
    return seed.org_views(("fed", "a", "b"))


def _entry(wf, headers, budget_id, kind, amount_fen, **extra):
    return wf.post("/api/v1/ledger", json={"budget_id": budget_id, "kind": kind, "amount_fen": amount_fen, **extra},
                   headers=headers)


def _budget(wf, headers, budget_id):
    return wf.get(f"/api/v1/budgets/{budget_id}", headers=headers).json


def test_a_budget_per_organisation_year_and_category_in_scope(wf, bearer, orgs):
    staff_a, staff_b = bearer("admin", orgs["a"]), bearer("admin", orgs["b"])
    budget = seed.budget(wf, staff_a, orgs["a"], 1_000_000)
    assert (budget["remaining_fen"], budget["balance_fen"], budget["committed_fen"]) == (1_000_000, 1_000_000, 0)
    again = wf.post("/api/v1/budgets", json={"org_id": orgs["a"], "year": seed.YEAR, "category": "assistance",
                                             "budget_fen": 5}, headers=staff_a)
    assert again.status_code == 409
    assert wf.post("/api/v1/budgets", json={"org_id": orgs["a"], "year": seed.YEAR, "category": "training",
                                            "budget_fen": 5}, headers=staff_b).status_code == 404
    assert wf.get(f"/api/v1/budgets/{budget['id']}", headers=staff_b).status_code == 404
    assert wf.get("/api/v1/budgets", headers=staff_b).json["items"] == []
    assert [b["id"] for b in wf.get("/api/v1/budgets", headers=bearer("admin", orgs["fed"])).json["items"]] == [
        budget["id"]]
    member = seed.member_view([orgs["fed"], orgs["a"]])
    assert wf.get("/api/v1/budgets", headers=bearer("member", orgs["a"], sub=member)).status_code == 403


def test_spending_past_the_budget_is_refused_and_a_reversal_restores_the_balance(wf, bearer, orgs):
    staff = bearer("admin", orgs["a"])
    budget = seed.budget(wf, staff, orgs["a"], 100_000, category="activities")["id"]
    paid = _entry(wf, staff, budget, "disbursement", 60_000, note="职工运动会奖品", payment_reference="PAY-1")
    assert paid.status_code == 201, paid.json
    assert paid.json["deltas"] == {"disbursed_fen": 60_000, "committed_fen": 60_000, "remaining_fen": -60_000}
    over = _entry(wf, staff, budget, "commitment", 40_001)
    assert over.status_code == 422 and "overspent" in over.json["error"]["message"]
    assert _budget(wf, staff, budget)["remaining_fen"] == 40_000
    income = _entry(wf, staff, budget, "contribution", 5_000, note="上级补助")
    assert income.status_code == 201
    assert _entry(wf, staff, budget, "commitment", 45_000).status_code == 201
    shown = _budget(wf, staff, budget)
    assert (shown["remaining_fen"], shown["balance_fen"]) == (0, 45_000)

    reversed_ = wf.post(f"/api/v1/ledger/{paid.json['id']}/reverse", json={"note": "重复支付，冲销"}, headers=staff)
    assert reversed_.status_code == 201, reversed_.json
    assert (reversed_.json["kind"], reversed_.json["reverses"]) == ("reversal", paid.json["id"])
    shown = _budget(wf, staff, budget)
    assert (shown["remaining_fen"], shown["balance_fen"], shown["disbursed_fen"]) == (60_000, 105_000, 0)
    assert wf.post(f"/api/v1/ledger/{paid.json['id']}/reverse", json={"note": "again"},
                   headers=staff).status_code == 409
    assert wf.post(f"/api/v1/ledger/{reversed_.json['id']}/reverse", json={"note": "undo"},
                   headers=staff).status_code == 422
    # the original entry is still there, unchanged: a correction is a new entry
    kept = wf.get(f"/api/v1/ledger/{paid.json['id']}", headers=staff).json
    assert {k: kept[k] for k in ("kind", "amount_fen", "deltas", "note", "payment_reference")} == {
        k: paid.json[k] for k in ("kind", "amount_fen", "deltas", "note", "payment_reference")}
    entries = wf.get(f"/api/v1/ledger?budget_id={budget}", headers=staff).json["items"]
    assert [e["kind"] for e in entries] == ["reversal", "commitment", "contribution", "disbursement"]
    # spending the income then reversing it would overspend: refused
    assert _entry(wf, staff, budget, "commitment", 60_000).status_code == 201
    assert wf.post(f"/api/v1/ledger/{income.json['id']}/reverse", json={"note": "x"},
                   headers=staff).status_code == 422


def test_no_route_and_no_code_path_changes_or_deletes_an_entry(welfare_app, wf, bearer, orgs):
    from services.welfare.documents import ImmutableEntry, LedgerEntry

    staff = bearer("admin", orgs["a"])
    budget = seed.budget(wf, staff, orgs["a"], 100_000)["id"]
    entry_id = _entry(wf, staff, budget, "commitment", 1_000).json["id"]
    for rule in welfare_app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/ledger"):
            assert rule.methods - {"HEAD", "OPTIONS"} <= {"GET", "POST"}, rule
    for method in ("PUT", "PATCH", "DELETE"):
        assert wf.open(f"/api/v1/ledger/{entry_id}", method=method, json={"amount_fen": 1},
                       headers=staff).status_code == 405
    entry = LedgerEntry.objects(pk=ObjectId(entry_id)).first()
    entry.amount_fen = 1
    for attempt in (entry.save, entry.delete, lambda: entry.update(set__amount_fen=1),
                    lambda: entry.modify(set__amount_fen=1)):
        with pytest.raises(ImmutableEntry):
            attempt()
    assert LedgerEntry.objects(pk=ObjectId(entry_id)).first().amount_fen == 1_000


def test_a_transfer_moves_money_between_budgets_in_scope(wf, bearer, orgs):
    fed = bearer("admin", orgs["fed"])
    source = seed.budget(wf, fed, orgs["fed"], 50_000)["id"]
    target = seed.budget(wf, fed, orgs["a"], 10_000)["id"]
    moved = _entry(wf, fed, source, "transfer", 20_000, to_budget_id=target, note="下拨帮扶资金")
    assert moved.status_code == 201, moved.json
    assert moved.json["kind"] == "transfer_out"
    assert (_budget(wf, fed, source)["remaining_fen"], _budget(wf, fed, target)["remaining_fen"]) == (30_000, 30_000)
    assert _entry(wf, fed, source, "transfer", 30_001, to_budget_id=target).status_code == 422
    assert _entry(wf, bearer("admin", orgs["a"]), target, "transfer", 1, to_budget_id=source).status_code == 404
    undone = wf.post(f"/api/v1/ledger/{moved.json['id']}/reverse", json={"note": "拨错"}, headers=fed)
    assert undone.status_code == 201 and undone.json["reverses"] == moved.json["id"]
    assert (_budget(wf, fed, source)["remaining_fen"], _budget(wf, fed, target)["remaining_fen"]) == (50_000, 10_000)


def test_twenty_parallel_approvals_against_a_budget_that_fits_five(welfare_app, wf, bearer, orgs):
    from services.welfare.documents import Budget, LedgerEntry

    staff = bearer("admin", orgs["a"])
    budget = seed.budget(wf, staff, orgs["a"], 5 * 100_000)["id"]
    applications = [seed.reviewed(wf, staff, seed.member_view([orgs["fed"], orgs["a"]]), amount_fen=100_000)["id"]
                    for _ in range(20)]
    barrier, answers = threading.Barrier(20), {}

    def approve(application_id):
        client = welfare_app.test_client()
        barrier.wait()
        answers[application_id] = client.post(f"/api/v1/assistance/{application_id}/approve", json={},
                                              headers=staff)

    threads = [threading.Thread(target=approve, args=(a,)) for a in applications]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in answers.values())
    assert codes == [200] * 5 + [422] * 15, codes
    approved = {a for a, r in answers.items() if r.status_code == 200}
    entries = list(LedgerEntry.objects(budget_id=ObjectId(budget)))
    assert {str(e.application_id) for e in entries} == approved and {e.kind for e in entries} == {"commitment"}
    assert sum(e.amount_fen for e in entries) == 500_000
    stored = Budget.objects(pk=ObjectId(budget)).first()
    assert (stored.committed_fen, stored.remaining_fen) == (500_000, 0)
    statuses = [wf.get(f"/api/v1/assistance/{a}", headers=staff).json["status"] for a in applications]
    assert sorted(statuses) == ["approved"] * 5 + ["reviewed"] * 15


def test_a_process_dying_between_counters_and_entry_is_repaired_once_quiet(wf, bearer, orgs):
    from services.welfare.app import ledger
    from services.welfare.documents import Budget

    staff = bearer("admin", orgs["a"])
    budget = seed.budget(wf, staff, orgs["a"], 100_000)["id"]
    assert _entry(wf, staff, budget, "commitment", 30_000).status_code == 201
    ledger.apply(ObjectId(budget), {"committed_fen": 50_000, "remaining_fen": -50_000})  # then the process died
    assert _budget(wf, staff, budget)["remaining_fen"] == 20_000
    assert ledger.repair() == []  # not yet quiet: a request may still be on its way
    later = utcnow() + ledger.QUIET + timedelta(seconds=1)
    assert ledger.repair(later) == [ObjectId(budget)]
    stored = Budget.objects(pk=ObjectId(budget)).first()
    assert (stored.committed_fen, stored.remaining_fen) == (30_000, 70_000)
    assert ledger.repair(later) == []  # right now


def test_a_half_written_transfer_is_completed(wf, bearer, orgs):
    from services.welfare.app import ledger
    from services.welfare.documents import Budget, LedgerEntry

    fed = bearer("admin", orgs["fed"])
    source = Budget.objects(pk=ObjectId(seed.budget(wf, fed, orgs["fed"], 50_000)["id"])).first()
    target = Budget.objects(pk=ObjectId(seed.budget(wf, fed, orgs["a"], 0)["id"])).first()
    ledger.record(source, "transfer_out", 20_000, "transfer:t1:out", "admin", transfer_id="t1",
                  counterpart_org_id=target.org_id, counterpart_budget_id=target.pk)  # then the process died
    assert ledger.complete_transfers() == 0
    assert ledger.complete_transfers(utcnow() + ledger.QUIET + timedelta(seconds=1)) == 1
    assert LedgerEntry.objects(key="transfer:t1:in").first().amount_fen == 20_000
    assert Budget.objects(pk=target.pk).first().remaining_fen == 20_000


def test_budget_versus_actual_and_the_export_neutralise_formulas(wf, bearer, orgs):
    from openpyxl import load_workbook

    staff = bearer("admin", orgs["a"])
    assistance = seed.budget(wf, staff, orgs["a"], 200_000)["id"]
    training = seed.budget(wf, staff, orgs["a"], 50_000, category="training")["id"]
    assert _entry(wf, staff, assistance, "disbursement", 50_000, note="=HYPERLINK(\"http://x\",\"点我\")",
                  payment_reference="+86-1").status_code == 201
    assert _entry(wf, staff, training, "commitment", 10_000, note="@SUM(A1:A9)").status_code == 201
    report = wf.get(f"/api/v1/funds/report?org_id={orgs['a']}&year={seed.YEAR}", headers=staff)
    assert report.status_code == 200, report.json
    rows = {r["category"]: r for r in report.json["categories"]}
    assert (rows["assistance"]["disbursed_fen"], rows["assistance"]["used_percent"]) == (50_000, 25.0)
    assert (rows["training"]["outstanding_fen"], rows["training"]["remaining_fen"]) == (10_000, 40_000)
    assert report.json["totals"]["budget_fen"] == 250_000
    assert wf.get(f"/api/v1/funds/report?org_id={orgs['a']}&year={seed.YEAR}",
                  headers=bearer("admin", orgs["b"])).status_code == 404

    exported = wf.get(f"/api/v1/funds/export?org_id={orgs['a']}&year={seed.YEAR}&format=csv", headers=staff)
    assert exported.status_code == 200 and exported.content_type.startswith("text/csv")
    cells = [cell for row in csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))) for cell in row]
    assert "'=HYPERLINK(\"http://x\",\"点我\")" in cells and "'+86-1" in cells and "'@SUM(A1:A9)" in cells
    assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in cells)

    xlsx = wf.get(f"/api/v1/funds/export?org_id={orgs['a']}&year={seed.YEAR}&format=xlsx", headers=staff)
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data))
    values = [c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert "'@SUM(A1:A9)" in values and "'+86-1" in values
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "@")) for v in values)
    assert all(c.data_type != "f" for sheet in book.worksheets for row in sheet.iter_rows() for c in row)
    assert wf.get(f"/api/v1/funds/export?org_id={orgs['a']}&year={seed.YEAR}",
                  headers=bearer("admin", orgs["b"])).status_code == 404
