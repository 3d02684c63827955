"""Dues: assessment arithmetic, payments in bulk, idempotency, arrears, report."""
from __future__ import annotations

import pytest

from services.members.documents import DuesAccount
from tests.helpers import member_body

pytestmark = pytest.mark.integration


@pytest.fixture
def staff(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    ids = [members.post("/api/v1/members", json=member_body(tree["a"], n), headers=admin).json["id"] for n in range(3)]
    return admin, ids


def test_assessment_is_half_a_percent_of_the_counted_wage(members, tree, staff):
    admin, ids = staff
    response = members.post("/api/v1/dues/assessments", headers=admin, json={"month": "2026-10", "items": [
        {"member_id": ids[0], "wage_fen": 567890}, {"member_id": ids[1], "wage_fen": 999},
        {"member_id": ids[2], "wage_fen": 800000}]})
    assert response.status_code == 200, response.json
    assert [i["dues_fen"] for i in response.json["items"]] == [2835, 0, 4000]
    again = members.post("/api/v1/dues/assessments", headers=admin, json={"month": "2026-10", "items": [
        {"member_id": ids[0], "wage_fen": 567890}]})
    assert again.json["succeeded"] == 1
    account = DuesAccount.objects(pk=f"{ids[0]}:2026-10").first()
    assert [e.type for e in account.outbox] == ["gonghui.members.dues.assessed"]  # the same file twice: once
    assert "wage_fen" not in account.outbox[0].data


def test_bad_batches_name_the_field(members, staff):
    admin, ids = staff
    for body, field in [({"month": "2026-13", "items": [{"member_id": ids[0], "wage_fen": 1}]}, "month"),
                        ({"month": "2026-10", "items": [{"member_id": ids[0], "wage_fen": 12.5}]}, "items.0.wage_fen"),
                        ({"month": "2026-10", "items": [{"member_id": ids[0], "wage_fen": -1}]}, "items.0.wage_fen"),
                        ({"month": "2026-10", "items": []}, "items")]:
        response = members.post("/api/v1/dues/assessments", json=body, headers=admin)
        assert response.status_code == 422 and field in response.json["error"]["fields"], body


def test_payments_arrears_and_the_monthly_report(members, tree, bearer, staff):
    admin, ids = staff
    for month in ("2026-09", "2026-10"):
        members.post("/api/v1/dues/assessments", headers=admin, json={"month": month, "items": [
            {"member_id": i, "wage_fen": 600000} for i in ids]})
    paid = members.post("/api/v1/dues/payments", headers=admin, json={"month": "2026-10", "items": [
        {"member_id": ids[0], "amount_fen": 3000, "reference": "payroll-2026-10"},
        {"member_id": ids[1], "amount_fen": 1000, "reference": "payroll-2026-10"}]})
    assert paid.json["succeeded"] == 2
    replay = members.post("/api/v1/dues/payments", headers=admin, json={"month": "2026-10", "items": [
        {"member_id": ids[0], "amount_fen": 3000, "reference": "payroll-2026-10"}]})
    assert replay.json["items"][0]["paid_fen"] == 3000  # the replayed payroll file changes nothing
    not_assessed = members.post("/api/v1/dues/payments", headers=admin, json={"month": "2026-11", "items": [
        {"member_id": ids[0], "amount_fen": 3000}]})
    assert not_assessed.json["failed"] == 1 and "no dues are assessed" in not_assessed.json["items"][0]["error"]
    mine = members.get(f"/api/v1/dues/members/{ids[1]}", headers=bearer("member", tree["a"], sub=ids[1])).json
    assert mine["arrears_fen"] == 3000 + 2000 and mine["months_in_arrears"] == ["2026-09", "2026-10"]
    report = members.get("/api/v1/dues/report?month=2026-10", headers=admin).json
    assert report == {"org_id": tree["a"], "month": "2026-10", "members_assessed": 3, "exempt": 0,
                      "expected_fen": 9000, "paid_fen": 4000, "outstanding_fen": 5000,
                      "members_paid_in_full": 1, "members_outstanding": 2}
    federation = members.get(f"/api/v1/dues/report?month=2026-10&org_id={tree['fed']}", headers=bearer("operator"))
    assert federation.json["expected_fen"] == 9000


def test_kept_memberships_owe_nothing_and_others_are_out_of_scope(members, tree, bearer, staff):
    admin, ids = staff
    members.post(f"/api/v1/members/{ids[2]}/status", json={"action": "keep", "reason": "retired"}, headers=admin)
    response = members.post("/api/v1/dues/assessments", headers=admin, json={"month": "2026-10", "items": [
        {"member_id": ids[2], "wage_fen": 600000}]})
    assert response.json["items"][0]["dues_fen"] == 0
    other = bearer("admin", tree["b"])
    blocked = members.post("/api/v1/dues/assessments", headers=other, json={"month": "2026-10", "items": [
        {"member_id": ids[0], "wage_fen": 600000}]})
    assert blocked.json["items"][0] == {"member_id": ids[0], "ok": False, "error": "member not found"}
    assert members.get(f"/api/v1/dues/members/{ids[0]}", headers=other).status_code == 404
    assert members.get(f"/api/v1/dues/report?month=2026-10&org_id={tree['a']}", headers=other).status_code == 404
