"""Every members route, walked with an admin of branch A against branch B's
objects: anything that names B's objects is 404, lists hold none of them,
and every route is in the OpenAPI document."""
from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest

from services.members import imports
from services.members.documents import Organisation, Review
from shared.pii import Vault, new_key
from tests.helpers import fill_ids, grassroots, member_body

pytestmark = pytest.mark.integration

# A valid body for each route that takes one, so that scope (not validation) decides.
BODIES = {
    ("PATCH", "/api/v1/orgs/<org_id>"): {"name": "新名称"},
    ("POST", "/api/v1/orgs/<org_id>/move"): {"parent_id": "{a}"},
    ("POST", "/api/v1/orgs/<org_id>/close"): None,
    ("POST", "/api/v1/orgs/<org_id>/cadres"): {"name": "x", "role": "chair", "term_start": "2025-01-01"},
    ("GET", "/api/v1/orgs/<org_id>"): None,
    ("GET", "/api/v1/orgs/<org_id>/children"): None,
    ("GET", "/api/v1/orgs/<org_id>/subtree"): None,
    ("GET", "/api/v1/orgs/<org_id>/cadres"): None,
    ("GET", "/api/v1/members/<member_id>"): None,
    ("PATCH", "/api/v1/members/<member_id>"): {"job": "x"},
    ("POST", "/api/v1/members/<member_id>/status"): {"action": "suspend"},
    ("GET", "/api/v1/members/<member_id>/history"): None,
    ("GET", "/api/v1/members/<member_id>/personal-data"): None,
    ("GET", "/api/v1/members/<member_id>/personal-data/reads"): None,
    ("POST", "/api/v1/applications/<member_id>/approve"): None,
    ("POST", "/api/v1/applications/<member_id>/reject"): {"reason": "x"},
    ("GET", "/api/v1/transfers/<transfer_id>"): None,
    ("POST", "/api/v1/transfers/<transfer_id>/accept"): None,
    ("POST", "/api/v1/transfers/<transfer_id>/decline"): {"reason": "x"},
    ("GET", "/api/v1/dues/members/<member_id>"): None,
    ("POST", "/api/v1/reviews/<path:review_id>/resolve"): {"outcome": "good_reason"},
    ("GET", "/api/v1/imports/<job_id>"): None,
}
# Routes without an id in the path: what they do with B's ids in the body or query.
WITHOUT_ID = {
    ("POST", "/api/v1/orgs"): ("json", {"name": "x", "kind": "group", "parent_id": "{b}"}, 404),
    ("POST", "/api/v1/members"): ("json", "member_in_b", 404),
    ("GET", "/api/v1/members"): ("query", "org_id={b}", 404),
    ("POST", "/api/v1/applications"): ("json", "member_in_b", 404),
    ("POST", "/api/v1/transfers"): ("json", {"member_id": "{member}", "to_org_id": "{a}"}, 404),
    ("GET", "/api/v1/transfers"): ("list", "transfers", None),
    ("POST", "/api/v1/dues/assessments"): ("batch", {"month": "2026-10", "items": [
        {"member_id": "{member}", "wage_fen": 500000}]}, 200),
    ("POST", "/api/v1/dues/payments"): ("batch", {"month": "2026-10", "items": [
        {"member_id": "{member}", "amount_fen": 100}]}, 200),
    ("GET", "/api/v1/dues/report"): ("query", "org_id={b}&month=2026-10", 404),
    ("GET", "/api/v1/reviews"): ("query", "org_id={b}", 404),
    ("GET", "/api/v1/stats"): ("query", "org_id={b}", 404),
    ("POST", "/api/v1/imports"): ("upload", None, 404),
    ("GET", "/api/v1/imports"): ("list", "imports", None),
}


def objects_in_b(members, tree, bearer, transfer_target_parent: str) -> dict:
    """One object of every kind in branch B; the transfer goes to a union below ``transfer_target_parent``."""
    op = bearer("operator")
    c = members.post("/api/v1/orgs", json=grassroots("丙公司工会", transfer_target_parent, 3) if
                     transfer_target_parent == tree["industry"] else {"name": "丙小组", "kind": "group",
                                                                      "parent_id": transfer_target_parent},
                     headers=op).json["id"]
    member = members.post("/api/v1/members", json=member_body(tree["b"], 1), headers=op).json["id"]
    applicant = members.post("/api/v1/applications", json=member_body(tree["b"], 2), headers=op).json["id"]
    transfer = members.post("/api/v1/transfers", json={"member_id": member, "to_org_id": c}, headers=op).json["id"]
    org_b = Organisation.objects(pk=tree["b"]).first()
    Review(id=f"{member}:2026-07", member_id=member, member_name="x", org_id=tree["b"], org_path=list(org_b.path),
           evaluated_month="2026-07", window=["2026-01"] * 6, opened_at=datetime.now(timezone.utc)).save()
    job = imports.new_job(org_b, "r.csv", b"name\n", "op", Vault(new_key()))
    return {"a": tree["a"], "b": tree["b"], "org_id": tree["b"], "member": member, "applicant": applicant,
            "transfer_id": transfer, "review_id": f"{member}:2026-07", "job_id": str(job.pk)}


@pytest.fixture
def branch_b_objects(members, tree, bearer):
    return objects_in_b(members, tree, bearer, tree["industry"])


def test_every_route_hides_another_branch(members_app, members, tree, bearer, branch_b_objects):
    walk_every_route(members_app, members, bearer("admin", tree["a"]), branch_b_objects)


def walk_every_route(members_app, members, admin_a: dict, ids: dict) -> None:
    """Every route, called by ``admin_a`` with B's objects: all 404, lists without them."""
    walked = set()
    for rule in members_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule.endswith("openapi.json"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            key = (method, rule.rule)
            walked.add(key)
            if rule.arguments:
                assert key in BODIES, f"{key} is not walked: add it to BODIES"
                values = {arg: ids["applicant"] if "applications" in rule.rule else
                          ids.get(arg) or ids["member"] for arg in rule.arguments}
                url = rule.rule
                for arg, value in values.items():
                    url = url.replace(f"<{arg}>", value).replace(f"<path:{arg}>", value)
                body = fill_ids(BODIES[key], ids)
                response = members.open(url, method=method, json=body, headers=admin_a)
                assert response.status_code == 404, (key, response.status_code, response.json)
                assert response.json["error"]["code"] == "not_found"
                continue
            assert key in WITHOUT_ID, f"{key} is not walked: add it to WITHOUT_ID"
            kind, payload, status = WITHOUT_ID[key]
            if kind == "json":
                body = member_body(ids["b"], 9) if payload == "member_in_b" else fill_ids(payload, ids)
                response = members.open(rule.rule, method=method, json=body, headers=admin_a)
            elif kind == "query":
                response = members.get(f"{rule.rule}?{fill_ids(payload, ids)}", headers=admin_a)
            elif kind == "batch":
                response = members.post(rule.rule, json=fill_ids(payload, ids), headers=admin_a)
                assert response.json["items"][0]["error"] == "member not found"
            elif kind == "upload":
                response = members.post(rule.rule, data={"org_id": ids["b"], "file": (io.BytesIO(b"x"), "r.csv")},
                                        headers=admin_a, content_type="multipart/form-data")
            else:  # a list: none of B's objects
                response = members.get(rule.rule, headers=admin_a)
                assert response.status_code == 200 and response.json["items"] == [], key
                continue
            assert response.status_code == status, (key, response.status_code, response.json)
    assert walked == set(BODIES) | set(WITHOUT_ID) and len(walked) == 35  # nothing listed that the app lacks


def test_every_route_is_in_the_openapi_document(members_app, members):
    spec = members.get("/api/v1/openapi.json").json
    for rule in members_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule.endswith("openapi.json"):
            continue
        path = rule.rule.replace("<path:", "{").replace("<", "{").replace(">", "}")
        assert path in spec["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in spec["paths"][path], (method, path)
