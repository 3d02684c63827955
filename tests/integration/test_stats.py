"""Subtree statistics from the per-organisation counts."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.members import stats
from services.members.documents import Member
from services.members.tree import follow_moves
from tests.helpers import member_body

pytestmark = pytest.mark.integration


def test_subtree_statistics(members, tree, bearer):
    op = bearer("operator")
    a_ids = [members.post("/api/v1/members", json=member_body(tree["a"], n, employment_type=et), headers=op).json["id"]
             for n, et in enumerate(["migrant", "migrant", "contract", "gig"])]
    members.post("/api/v1/members", json=member_body(tree["b"], 10), headers=op)
    members.post(f"/api/v1/members/{a_ids[3]}/status", json={"action": "leave", "reason": "voluntary"}, headers=op)
    members.post(f"/api/v1/members/{a_ids[2]}/status", json={"action": "keep", "reason": "retired"}, headers=op)
    transfer = members.post("/api/v1/transfers", json={"member_id": a_ids[1], "to_org_id": tree["b"]},
                            headers=op).json
    members.post(f"/api/v1/transfers/{transfer['id']}/accept", headers=op)
    members.patch(f"/api/v1/orgs/{tree['a']}", json={"headcount": 10}, headers=op)
    members.patch(f"/api/v1/orgs/{tree['b']}", json={"headcount": 10}, headers=op)
    assert stats.refresh() == 4

    month = datetime.now(timezone.utc).strftime("%Y-%m")
    a = members.get(f"/api/v1/stats?from={month}&to={month}", headers=bearer("admin", tree["a"])).json
    assert a["members"] == 2 and a["by_status"]["active"] == 2 and a["by_status"]["left"] == 1
    assert a["by_employment_type"]["migrant"] == 1 and a["by_employment_type"]["contract"] == 1
    assert a["kept"] == 1
    assert a["period"] == {"from": month, "to": month, "joined": 3, "left": 1, "transferred_in": 0,
                           "transferred_out": 1}
    assert a["employees"] == 10 and a["join_rate"] == 0.2
    assert sum(a["by_age_band"].values()) == 2 and a["as_of"]

    industry = members.get(f"/api/v1/stats?org_id={tree['industry']}&from={month}&to={month}",
                           headers=bearer("admin", tree["fed"])).json
    assert industry["members"] == 4 and industry["employees"] == 20 and industry["join_rate"] == 0.2
    assert industry["period"]["transferred_in"] == 1 and industry["period"]["transferred_out"] == 1
    assert sum(industry["by_gender"].values()) == 4
    assert members.get(f"/api/v1/stats?org_id={tree['b']}", headers=bearer("admin", tree["a"])).status_code == 404
    backwards = members.get("/api/v1/stats?from=2026-05&to=2026-01", headers=bearer("admin", tree["a"]))
    assert backwards.status_code == 200 and (backwards.json["period"]["from"], backwards.json["period"]["to"]) == (
        "2026-01", "2026-05")  # the months between the two, in either order
    assert Member.objects.count() == 5


def test_a_dashboard_reads_one_rollup_until_a_subtree_moves(members, tree, bearer, monkeypatch):
    """The subtree's counts come from one document; after a move they are summed from the organisations
    below as the tree is now, until the next rebuild."""
    op = bearer("operator")
    for n in range(3):
        members.post("/api/v1/members", json=member_body(tree["a"], n), headers=op)
    other = members.post("/api/v1/orgs", json={"name": "市卫生工会", "kind": "industry", "parent_id": tree["fed"]},
                         headers=op).json["id"]
    stats.refresh()
    reads = []
    real_find = stats.OrgStats._get_collection().__class__.find

    def counting_find(collection, *args, **kwargs):
        query = args[0] if args else kwargs.get("filter")
        if collection.name == "org_stats" and isinstance(query, dict) and "path" in query:
            reads.append(query)  # a sum over the organisations below (find_one of the rollup has no path)
        return real_find(collection, *args, **kwargs)

    monkeypatch.setattr(stats.OrgStats._get_collection().__class__, "find", counting_find)
    industry = members.get(f"/api/v1/stats?org_id={tree['industry']}", headers=bearer("admin", tree["fed"])).json
    assert industry["members"] == 3 and reads == []  # find_one of the rollup only
    assert members.post(f"/api/v1/orgs/{tree['a']}/move", json={"parent_id": other}, headers=op).status_code == 202
    follow_moves()  # what the worker does within a second
    moved = members.get(f"/api/v1/stats?org_id={tree['industry']}", headers=bearer("admin", tree["fed"])).json
    assert moved["members"] == 0 and reads  # summed from what is below now
    assert members.get(f"/api/v1/stats?org_id={other}", headers=bearer("admin", tree["fed"])).json["members"] == 3
