"""Organisations: employer details, updates, the tree, moves, closing, cadres."""
from __future__ import annotations

import pytest

from services.members.documents import Member, Organisation
from services.members.tree import follow_moves
from tests.helpers import credit_code, grassroots, member_body

pytestmark = pytest.mark.integration


def _outbox_types(org_id):
    return [e.type for e in Organisation.objects(pk=org_id).first().outbox]


def test_a_grassroots_union_needs_a_valid_unique_credit_code_and_a_headcount(members, tree, bearer):
    admin = bearer("admin", tree["industry"])
    body = grassroots("丙公司工会", tree["industry"], 3)
    for change, field in [({"credit_code": None}, "credit_code"), ({"headcount": None}, "headcount"),
                          ({"credit_code": "91350100M000100Y44"}, "credit_code"), ({"headcount": -1}, "headcount")]:
        response = members.post("/api/v1/orgs", json={**body, **change}, headers=admin)
        assert response.status_code == 422 and field in response.json["error"]["fields"], (change, response.json)
    created = members.post("/api/v1/orgs", json=body, headers=admin)
    assert created.status_code == 201 and created.json["credit_code"] == credit_code(3)
    again = members.post("/api/v1/orgs", json={**body, "name": "又一个"}, headers=admin)
    assert again.status_code == 409 and "credit_code" in again.json["error"]["fields"]
    federation_with_code = members.post("/api/v1/orgs", json={"name": "x", "kind": "industry", "parent_id": tree["fed"],
                                                              "credit_code": credit_code(9)}, headers=bearer("operator"))
    assert federation_with_code.status_code == 422


def test_updates_bump_the_version_and_publish(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    response = members.patch(f"/api/v1/orgs/{tree['a']}", json={"headcount": 820, "name": "第一中学教职工工会"},
                             headers=admin)
    assert response.status_code == 200, response.json
    assert response.json["headcount"] == 820 and response.json["version"] == 2
    assert "gonghui.members.organisation.updated" in _outbox_types(tree["a"])
    event = [e for e in Organisation.objects(pk=tree["a"]).first().outbox if e.type.endswith("updated")][0]
    assert event.data["changed"] == ["headcount", "name"]
    assert members.patch(f"/api/v1/orgs/{tree['b']}", json={"headcount": 1}, headers=admin).status_code == 404
    bad = members.patch(f"/api/v1/orgs/{tree['fed']}", json={"headcount": 1}, headers=bearer("admin", tree["fed"]))
    assert bad.status_code == 422 and "headcount" in bad.json["error"]["fields"]
    unknown = members.patch(f"/api/v1/orgs/{tree['a']}", json={"kind": "group"}, headers=admin)
    assert unknown.status_code == 422 and "kind" in unknown.json["error"]["fields"]


def test_children_and_subtree_are_paginated_and_scoped(members, tree, bearer):
    op = bearer("operator")
    groups = [members.post("/api/v1/orgs", json={"name": f"小组{i}", "kind": "group", "parent_id": tree["a"]},
                           headers=op).json["id"] for i in range(5)]
    admin_a = bearer("admin", tree["a"])
    seen, cursor = [], None
    while True:
        url = f"/api/v1/orgs/{tree['a']}/children?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = members.get(url, headers=admin_a).json
        assert len(body["items"]) <= 2
        seen += [o["id"] for o in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(groups)
    subtree = members.get(f"/api/v1/orgs/{tree['industry']}/subtree?limit=100", headers=bearer("admin", tree["fed"]))
    assert len(subtree.json["items"]) == 1 + 2 + 5
    only_groups = members.get(f"/api/v1/orgs/{tree['fed']}/subtree?kind=group&limit=100", headers=op).json["items"]
    assert len(only_groups) == 5
    assert members.get(f"/api/v1/orgs/{tree['b']}/subtree", headers=admin_a).status_code == 404
    assert members.get(f"/api/v1/orgs/{tree['industry']}/children", headers=admin_a).status_code == 404
    assert members.get(f"/api/v1/orgs/{tree['a']}/children?limit=101", headers=admin_a).status_code == 422


def test_a_subtree_moves_with_everything_below_it(members, tree, bearer):
    op = bearer("operator")
    group = members.post("/api/v1/orgs", json={"name": "小组", "kind": "group", "parent_id": tree["a"]},
                         headers=op).json["id"]
    member = members.post("/api/v1/members", json=member_body(group, 1), headers=op).json
    other_industry = members.post("/api/v1/orgs", json={"name": "市卫生工会", "kind": "industry",
                                                        "parent_id": tree["fed"]}, headers=op).json["id"]
    moved = members.post(f"/api/v1/orgs/{tree['a']}/move", json={"parent_id": other_industry},
                         headers=bearer("admin", tree["fed"]))
    assert moved.status_code == 202, moved.json
    assert moved.json["path"] == [tree["fed"], other_industry, tree["a"]]
    assert follow_moves() == 2  # the worker's job: the group's path and the member's
    assert Organisation.objects(pk=group).first().path == [tree["fed"], other_industry, tree["a"], group]
    assert Member.objects(pk=member["id"]).first().org_path == [tree["fed"], other_industry, tree["a"], group]
    event = [e for e in Organisation.objects(pk=tree["a"]).first().outbox if e.type.endswith("moved")][0]
    assert event.data["old_path"] == [tree["fed"], tree["industry"], tree["a"]]
    # the old industry union no longer sees it; the new one does
    assert members.get(f"/api/v1/members/{member['id']}", headers=bearer("admin", tree["industry"])).status_code == 404
    assert members.get(f"/api/v1/members/{member['id']}", headers=bearer("admin", other_industry)).status_code == 200


def test_a_subtree_cannot_move_below_itself_or_out_of_scope(members, tree, bearer):
    op = bearer("operator")
    group = members.post("/api/v1/orgs", json={"name": "小组", "kind": "group", "parent_id": tree["a"]},
                         headers=op).json["id"]
    into_itself = members.post(f"/api/v1/orgs/{tree['industry']}/move", json={"parent_id": tree["a"]}, headers=op)
    assert into_itself.status_code == 409 and "parent_id" in into_itself.json["error"]["fields"]
    wrong_kind = members.post(f"/api/v1/orgs/{tree['a']}/move", json={"parent_id": group}, headers=op)
    assert wrong_kind.status_code == 409
    out_of_scope = members.post(f"/api/v1/orgs/{group}/move", json={"parent_id": tree["b"]},
                                headers=bearer("admin", tree["a"]))
    assert out_of_scope.status_code == 404


def test_closing_needs_an_empty_organisation_and_keeps_it(members, tree, bearer):
    op = bearer("operator")
    members.post("/api/v1/members", json=member_body(tree["a"], 3), headers=op)
    refused = members.post(f"/api/v1/orgs/{tree['a']}/close", headers=bearer("admin", tree["industry"]))
    assert refused.status_code == 409 and "1 active members" in refused.json["error"]["message"]
    group = members.post("/api/v1/orgs", json={"name": "小组", "kind": "group", "parent_id": tree["b"]},
                         headers=op).json["id"]
    assert members.post(f"/api/v1/orgs/{tree['b']}/close", headers=op).status_code == 409  # open group below
    closed = members.post(f"/api/v1/orgs/{group}/close", headers=bearer("admin", tree["b"]))
    assert closed.status_code == 200 and closed.json["status"] == "closed" and closed.json["closed_at"]
    assert "gonghui.members.organisation.closed" in _outbox_types(group)
    assert members.get(f"/api/v1/orgs/{group}", headers=op).json["status"] == "closed"  # history stays
    assert members.post("/api/v1/members", json=member_body(group, 4), headers=op).status_code == 409
    assert members.post(f"/api/v1/orgs/{tree['b']}/close", headers=op).status_code == 200


def test_cadres_with_terms(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    url = f"/api/v1/orgs/{tree['a']}/cadres"
    chair = members.post(url, json={"name": "王主席", "role": "chair", "term_start": "2024-01-01",
                                    "term_end": "2028-12-31"}, headers=admin)
    assert chair.status_code == 201, chair.json
    members.post(url, json={"name": "李委员", "role": "committee_member", "term_start": "2019-01-01",
                            "term_end": "2023-12-31"}, headers=admin)
    members.post(url, json={"name": "赵委员", "role": "women_committee", "term_start": "2025-03-08"}, headers=admin)
    current = members.get(url, headers=admin).json["items"]
    assert [c["name"] for c in current] == ["王主席", "赵委员"]
    assert len(members.get(url + "?current=false", headers=admin).json["items"]) == 3
    backwards = members.post(url, json={"name": "x", "role": "chair", "term_start": "2025-01-01",
                                        "term_end": "2024-01-01"}, headers=admin)
    assert backwards.status_code == 422 and "term_end" in backwards.json["error"]["fields"]
    assert members.post(url, json={"name": "x", "role": "king", "term_start": "2025-01-01"},
                        headers=admin).status_code == 422
    assert members.get(f"/api/v1/orgs/{tree['b']}/cadres", headers=admin).status_code == 404


def test_closing_moves_kept_memberships_to_the_union_above(members, tree, bearer):
    op = bearer("operator")
    group = members.post("/api/v1/orgs", json={"name": "小组", "kind": "group", "parent_id": tree["a"]},
                         headers=op).json["id"]
    retiree = members.post("/api/v1/members", json=member_body(group, 5), headers=op).json["id"]
    members.post(f"/api/v1/members/{retiree}/status", json={"action": "keep", "reason": "employer_closed"},
                 headers=op)
    closed = members.post(f"/api/v1/orgs/{group}/close", headers=op)
    assert closed.status_code == 200, closed.json
    moved = members.get(f"/api/v1/members/{retiree}", headers=op).json
    assert moved["org_id"] == tree["a"] and moved["kept"] and moved["status"] == "active"
    history = members.get(f"/api/v1/members/{retiree}/history", headers=op).json["items"]
    assert history[-1]["action"] == "kept_moved_up"
