"""The members API against the real database: rules, errors, scope."""
from __future__ import annotations

import pytest

from tests.helpers import id_number, member_body

pytestmark = pytest.mark.integration


def test_an_admin_registers_a_member_with_personal_data_masked(members, tree, bearer):
    response = members.post("/api/v1/members", json=member_body(tree["a"], 1, id_number="11010519491231002X",
                                                                phone="13812345678"), headers=bearer("admin", tree["a"]))
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "active" and body["card_no"].startswith("GH")
    assert body["id_number"] == "**************002X" and body["phone"] == "138****5678"
    assert body["org_path"] == [tree["fed"], tree["industry"], tree["a"]]
    again = members.get(f"/api/v1/members/{body['id']}", headers=bearer("admin", tree["fed"]))
    assert again.status_code == 200 and again.json == body


def test_card_numbers_are_unique(members, tree, bearer):
    headers = bearer("admin", tree["a"])
    cards = {members.post("/api/v1/members", json=member_body(tree["a"], n), headers=headers).json["card_no"]
             for n in range(5)}
    assert len(cards) == 5


def test_the_same_person_cannot_join_twice_and_other_branches_stay_hidden(members, tree, bearer):
    first = members.post("/api/v1/members", json=member_body(tree["a"], 7), headers=bearer("admin", tree["a"]))
    assert first.status_code == 201
    in_scope = members.post("/api/v1/members", json=member_body(tree["a"], 7), headers=bearer("admin", tree["a"]))
    assert in_scope.status_code == 409
    assert first.json["id"] in in_scope.json["error"]["fields"]["id_number"][0]
    elsewhere = members.post("/api/v1/members", json=member_body(tree["b"], 7), headers=bearer("admin", tree["b"]))
    assert elsewhere.status_code == 409
    assert first.json["id"] not in str(elsewhere.json)  # never reveals another branch's member


def test_branch_scope_hides_other_branches_for_reading_and_writing(members, tree, bearer):
    member_b = members.post("/api/v1/members", json=member_body(tree["b"], 3), headers=bearer("admin", tree["b"])).json
    admin_a = bearer("admin", tree["a"])
    assert members.get(f"/api/v1/members/{member_b['id']}", headers=admin_a).status_code == 404
    assert members.get(f"/api/v1/orgs/{tree['b']}", headers=admin_a).status_code == 404
    assert members.get(f"/api/v1/orgs/{tree['fed']}", headers=admin_a).status_code == 404  # above is out of scope
    write = members.post("/api/v1/members", json=member_body(tree["b"], 4), headers=admin_a)
    assert write.status_code == 404
    create_org = members.post("/api/v1/orgs", json={"name": "x", "kind": "group", "parent_id": tree["b"]},
                              headers=admin_a)
    assert create_org.status_code == 404
    missing = members.get("/api/v1/members/000000000000000000000000", headers=admin_a)
    assert missing.status_code == 404 and missing.json["error"]["message"] == "member not found"
    assert write.json["error"]["code"] == missing.json["error"]["code"] == "not_found"


def test_a_member_reads_itself_only(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    m1 = members.post("/api/v1/members", json=member_body(tree["a"], 11), headers=admin).json
    m2 = members.post("/api/v1/members", json=member_body(tree["a"], 12), headers=admin).json
    own = bearer("member", tree["a"], sub=m1["id"])
    assert members.get(f"/api/v1/members/{m1['id']}", headers=own).status_code == 200
    assert members.get(f"/api/v1/members/{m2['id']}", headers=own).status_code == 404
    assert members.post("/api/v1/members", json=member_body(tree["a"], 13), headers=own).status_code == 403


def test_only_operators_create_root_federations(members, tree, bearer):
    assert members.post("/api/v1/orgs", json={"name": "x", "kind": "federation"},
                        headers=bearer("admin", tree["fed"])).status_code == 403
    refused = members.post("/api/v1/orgs", json={"name": "x", "kind": "grassroots"}, headers=bearer("operator"))
    assert refused.status_code == 422 and "parent_id" in refused.json["error"]["fields"]


def test_placement_rules_are_enforced(members, tree, bearer):
    response = members.post("/api/v1/orgs", json={"name": "x", "kind": "federation", "parent_id": tree["a"]},
                            headers=bearer("admin", tree["a"]))
    assert response.status_code == 409 and "kind" in response.json["error"]["fields"]  # the parent's kind
    at_federation = members.post("/api/v1/members", json=member_body(tree["fed"], 1),
                                 headers=bearer("admin", tree["fed"]))
    assert at_federation.status_code == 409 and "org_id" in at_federation.json["error"]["fields"]


@pytest.mark.parametrize("change,field", [
    ({"gender": "other"}, "gender"),
    ({"employment_type": "boss"}, "employment_type"),
    ({"id_number": "110105194912310021"}, "id_number"),
    ({"phone": "12345"}, "phone"),
    ({"unexpected": 1}, "unexpected"),
    ({"name": {"$ne": None}}, "name.$ne"),
    ({"org_id": {"$gt": ""}}, "org_id.$gt"),
    ({"name": ["a"]}, "name"),
])
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(members, tree, bearer, change, field):
    headers = bearer("admin", tree["a"])
    response = members.post("/api/v1/members", json={**member_body(tree["a"], 21), **change}, headers=headers)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert response.json["request_id"]
    from services.members.documents import Member
    assert Member.objects.count() == 0


def test_missing_fields_are_named(members, tree, bearer):
    response = members.post("/api/v1/members", json={}, headers=bearer("admin", tree["a"]))
    assert response.status_code == 422
    assert {"name", "gender", "id_number", "phone", "org_id", "employment_type"} <= set(response.json["error"]["fields"])


def test_malformed_json_unknown_routes_and_methods_are_json(members, tree, bearer):
    headers = {**bearer("admin", tree["a"]), "Content-Type": "application/json"}
    malformed = members.post("/api/v1/members", data="{nope", headers=headers)
    assert malformed.status_code == 400 and malformed.json["error"]["code"] == "bad_request"
    assert members.get("/api/v1/nowhere").status_code == 404
    assert members.get("/api/v1/nowhere").json["error"]["code"] == "not_found"
    assert members.delete("/api/v1/orgs").json["error"]["code"] == "method_not_allowed"


def test_query_operators_in_query_strings_are_refused(members, tree, bearer):
    response = members.get(f"/api/v1/orgs/{tree['a']}?$where=1", headers=bearer("admin", tree["a"]))
    assert response.status_code == 422


def test_tokens_are_checked(members, tree, token):
    import jwt

    good = token("admin", tree["a"])
    none_alg = jwt.encode({"sub": "x", "org": tree["a"], "roles": ["admin"], "exp": 9999999999}, None,
                          algorithm="none")
    for header in ["", "Bearer", "Basic abc", f"Bearer {none_alg}", f"Bearer {good}x"]:
        response = members.get(f"/api/v1/orgs/{tree['a']}", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json["error"]["code"] == "unauthenticated"
    assert members.get(f"/api/v1/orgs/{tree['a']}", headers={"Authorization": f"Bearer {good}"}).status_code == 200


def test_request_ids_are_echoed_or_made(members):
    assert members.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = members.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert made and " " not in made


def test_an_unexpected_error_is_a_json_500_without_a_trace(members_app):
    @members_app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = members_app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.json["error"] == {"status": 500, "code": "internal_error", "message": "internal error"}
    assert "secret internals" not in response.get_data(as_text=True)


def test_readiness_checks_the_database_and_the_broker(members, settings_for):
    ready = members.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {"database": "ok", "broker": "ok"}
    from services.members import create_app

    down = create_app(settings_for("members", kafka_bootstrap="127.0.0.1:9")).test_client().get("/readyz")
    assert down.status_code == 503 and down.json["checks"]["broker"].startswith("unavailable")


def test_openapi_lists_every_endpoint(members):
    spec = members.get("/api/v1/openapi.json").json
    assert {"/api/v1/orgs", "/api/v1/orgs/{org_id}", "/api/v1/members", "/api/v1/members/{member_id}"} <= set(spec["paths"])


def test_valid_numbers_from_the_helper_are_valid():
    from services.members.domain import validate_id_number

    for n in range(50):
        validate_id_number(id_number(n))
