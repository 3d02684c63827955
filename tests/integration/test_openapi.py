"""Every service's OpenAPI document states the real error shape for every error status, and real error
responses validate against it."""
from __future__ import annotations

import importlib

import jsonschema
import pytest

from tests.helpers import member_body

pytestmark = pytest.mark.integration

SERVICES = ("members", "events", "welfare", "notify")


def _resolve(spec: dict, node):
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _error_schema(spec: dict, operation: dict, status: str) -> dict:
    response = _resolve(spec, operation["responses"][status])
    schema = response["content"]["application/json"]["schema"]
    return {**_resolve(spec, schema), "components": spec["components"]}


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_documents_the_real_error_shape(settings_for, service):
    app = importlib.import_module(f"services.{service}").create_app(settings_for(service))
    spec = app.test_client().get("/api/v1/openapi.json").json
    operations = [(path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()
                  if method in ("get", "post", "patch", "put", "delete")]
    assert operations
    for path, method, operation in operations:
        for status in ("400", "401", "403", "404", "409", "422", "default"):
            schema = _error_schema(spec, operation, status)
            assert set(schema["properties"]) == {"error", "request_id"}, (path, method, status)


def test_real_error_responses_validate_against_the_documented_shape(members, tree, bearer):
    spec = members.get("/api/v1/openapi.json").json
    post = spec["paths"]["/api/v1/members"]["post"]
    answers = {"401": members.post("/api/v1/members", json={}),
               "422": members.post("/api/v1/members", json={"name": ""}, headers=bearer("operator")),
               "404": members.get("/api/v1/members/" + "0" * 24, headers=bearer("operator")),
               "400": members.post("/api/v1/members", data="[" * 100, content_type="application/json",
                                   headers=bearer("operator"))}
    for status, answer in answers.items():
        assert str(answer.status_code) == status, answer.json
        schema = _resolve(spec, _error_schema(spec, post, status)["properties"]["error"])
        jsonschema.validate(answer.json, {"type": "object", "required": ["error", "request_id"],
                                          "properties": {"error": schema}, "components": spec["components"]})
        assert set(answer.json["error"]) <= set(schema["properties"])


def test_what_schemathesis_found_in_the_members_api(members, tree, bearer):
    """Nested field errors are one path each, 405 says what is allowed, amounts may be written 5000.0 as
    JSON Schema's integer allows, page cursors are documented exactly, blank text is documented as refused."""
    op = bearer("operator")
    member = members.post("/api/v1/members", json=member_body(tree["a"], 1), headers=op).json["id"]
    bad = members.post("/api/v1/dues/assessments", headers=op,
                       json={"month": "2026-10", "items": [{"member_id": member, "wage_fen": "x"}]})
    assert bad.status_code == 422 and bad.json["error"]["fields"] == {"items.0.wage_fen": ["Not a valid integer."]}
    whole = members.post("/api/v1/dues/assessments", headers=op,
                         json={"month": "2026-10", "items": [{"member_id": member, "wage_fen": 500000.0}]})
    assert whole.status_code == 200 and whole.json["succeeded"] == 1, whole.json
    traced = members.open("/api/v1/members", method="TRACE", headers=op)
    assert traced.status_code == 405 and set(traced.headers["Allow"].split(", ")) >= {"GET", "POST"}
    spec = members.get("/api/v1/openapi.json").json
    children = spec["paths"]["/api/v1/orgs/{org_id}/children"]["get"]["parameters"]
    assert [p["schema"]["pattern"] for p in children if p["name"] == "cursor"] == ["^[A-Za-z0-9_-]{16}$"]
    assert spec["components"]["schemas"]["MemberCreate"]["properties"]["name"]["pattern"] == (
        r"^[^\u0000]*[^\s\u0000][^\u0000]*$")  # some character not a space, and no NUL
