"""The AsyncAPI document: generated from the services' declarations, equal to the copy the gateway
serves, and valid by the AsyncAPI project's own parser."""
import json

import pytest
from click.testing import CliRunner

from services.contracts import SERVICES, asyncapi, asyncapi_json
from shared.cli import cli
from shared.localinfra import asyncapi_parser
from shared.localinfra.cache import REPO_ROOT

pytestmark = pytest.mark.contract

SERVED = REPO_ROOT / "deploy" / "asyncapi.json"


def test_the_served_copy_is_the_generated_document():
    assert SERVED.read_text(encoding="utf-8") == asyncapi_json(), "regenerate it: gonghui asyncapi -o deploy/asyncapi.json"


def test_the_cli_writes_it(tmp_path):
    out = tmp_path / "asyncapi.json"
    result = CliRunner().invoke(cli, ["asyncapi", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == asyncapi_json()


def test_the_gateway_serves_it():
    nginx = (REPO_ROOT / "deploy" / "nginx.conf").read_text()
    compose = (REPO_ROOT / "docker-compose.yml").read_text()
    assert "location = /asyncapi.json" in nginx and "alias /etc/nginx/gonghui/asyncapi.json" in nginx
    assert "./deploy/asyncapi.json:/etc/nginx/gonghui/asyncapi.json:ro" in compose


def test_every_published_type_is_a_message_on_its_topic_with_its_schema():
    doc = asyncapi()
    for _name, published, spec in SERVICES:
        for event in published.ALL:
            message = doc["components"]["messages"][f"{event.name}.v{event.version}"]
            assert message["payload"]["schema"]["properties"] == event.schema["properties"]
            assert message["headers"]["properties"]["ce_type"] == {"const": event.name}
            assert message["headers"]["properties"]["ce_source"] == {"const": published.SOURCE}
            assert message["headers"]["properties"]["ce_dataschema"] == {"const": event.dataschema}
            topic = spec.routes.get(event.name, published.TOPIC)
            assert f"{event.name}.v{event.version}" in doc["channels"][topic]["messages"]


def test_each_consumer_receives_exactly_what_it_handles():
    doc = asyncapi()
    for name, _published, spec in SERVICES:
        received = {ref["$ref"].rsplit("/", 1)[1].rsplit(".v", 1)[0]
                    for op_id, op in doc["operations"].items() if op_id.startswith(f"{name}.receives.")
                    for ref in op["messages"]}
        assert received == set(spec.handled_types), name
    assert "gonghui.members.contact.changed" in {
        ref["$ref"].rsplit("/", 1)[1].rsplit(".v", 1)[0]
        for ref in doc["operations"]["notify.receives.gonghui.members.contacts.v1"]["messages"]}


@pytest.fixture(scope="module")
def parser_ready():
    try:
        asyncapi_parser.install()
    except FileNotFoundError as exc:  # no node/npm on this machine
        pytest.skip(f"the AsyncAPI parser needs node and npm: {exc}")


def test_the_asyncapi_parser_accepts_it_without_errors_or_warnings(parser_ready):
    valid, diagnostics = asyncapi_parser.validate(SERVED)
    assert valid, diagnostics
    assert [d for d in diagnostics if d["severity"] in ("error", "warning")] == []


@pytest.mark.parametrize("ref, rule", [
    ("#/channels/gonghui.members.v1/messages/no.such.message.v1", "invalid-ref"),
    ("#/channels/gonghui.notify.v1/messages/gonghui.notify.message.delivered.v1",
     "asyncapi3-operation-messages-from-referred-channel"),
])
def test_the_parser_rejects_a_broken_document(parser_ready, tmp_path, ref, rule):
    """The check can fail: an operation naming a message that does not exist, or one its channel
    does not carry, is refused."""
    doc = asyncapi()
    doc["operations"]["notify.receives.gonghui.members.v1"]["messages"].append({"$ref": ref})
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc))
    valid, diagnostics = asyncapi_parser.validate(broken)
    assert not valid
    assert [d["code"] for d in diagnostics if d["severity"] == "error"] == [rule]
