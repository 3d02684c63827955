"""docker-compose.yml is complete and valid."""
from __future__ import annotations

import importlib
import os
import pkgutil
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("members", "events", "welfare", "notify")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_service_has_a_web_and_a_worker_from_one_image(compose):
    services = compose["services"]
    for name in SERVICES:
        web, worker = services[name], services[f"{name}-worker"]
        assert web["build"]["dockerfile"] == worker["build"]["dockerfile"] == "deploy/Dockerfile"
        assert web["image"] == worker["image"]
        assert f"services.{name}.wsgi:app" in web["command"]
        assert worker["command"] == ["python", "-m", f"services.{name}.worker"]
        assert "healthcheck" in worker
        assert worker["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"


def test_each_service_gets_only_the_keys_it_needs(compose):
    """yaml.safe_load resolves the merge keys, so this is each container's real environment."""
    keys = {"GONGHUI_PII_KEYS", "GONGHUI_PII_KEY", "GONGHUI_FINGERPRINT_KEY", "GONGHUI_CONTACT_KEYS"}
    expected = {"members": {"GONGHUI_PII_KEYS", "GONGHUI_FINGERPRINT_KEY", "GONGHUI_CONTACT_KEYS"},
                "notify": {"GONGHUI_PII_KEYS", "GONGHUI_CONTACT_KEYS"}, "events": set(), "welfare": {"GONGHUI_PII_KEYS"}}
    for name in SERVICES:
        for container in (name, f"{name}-worker"):
            assert keys & set(compose["services"][container]["environment"]) == expected[name], container
    pii = {name: compose["services"][name]["environment"]["GONGHUI_PII_KEYS"] for name in ("members", "notify", "welfare")}
    assert len(set(pii.values())) == 3  # no service can read another's personal data
    assert "retention.ms" in " ".join(compose["services"]["kafka-init"]["command"])


def test_infrastructure_is_kraft_kafka_and_a_mongo_replica_set(compose):
    kafka = compose["services"]["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "--replSet" in compose["services"]["mongo"]["command"]
    for name in ("kafka", "mongo", "gateway"):
        assert "healthcheck" in compose["services"][name]
    init = compose["services"]["kafka-init"]["command"][0]
    for topic in ("gonghui.members.v1", "gonghui.events.v1", "gonghui.welfare.v1", "gonghui.notify.v1"):
        assert topic in init


def test_the_gateway_routes_every_api_to_its_owner():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    for prefix, owner in [("/api/v1/orgs", "members"), ("/api/v1/members", "members"), ("/api/v1/inbox", "notify")]:
        block = conf.split(f"location {prefix}")[1].split("}")[0] if f"location {prefix}" in conf else ""
        assert f"proxy_pass http://{owner}" in block, prefix


def _blueprints(service: str) -> list:
    package = importlib.import_module(f"services.{service}.api")
    found = []
    for module in pkgutil.iter_modules(package.__path__):
        loaded = importlib.import_module(f"{package.__name__}.{module.name}")
        found += [loaded.blp] if hasattr(loaded, "blp") else []
        found += getattr(loaded, "BLUEPRINTS", [])
    return list({id(b): b for b in found}.values())


def test_the_gateway_sends_every_route_to_the_service_that_serves_it():
    """Every /api/v1/<resource> a service serves has a gateway location naming that service, and no
    resource is served by two services."""
    from flask import Flask

    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    owners: dict[str, set] = {}
    for service in ("members", "events", "welfare", "notify"):
        app = Flask(service)
        for blueprint in _blueprints(service):
            app.register_blueprint(blueprint)
        for rule in app.url_map.iter_rules():
            if rule.rule.startswith("/api/v1/"):
                owners.setdefault(rule.rule.split("/")[3], set()).add(service)
    assert len(owners) > 25
    for resource, services in owners.items():
        assert len(services) == 1, (resource, services)
        location = re.search(rf"location /api/v1/{re.escape(resource)} +\{{[^}}]*proxy_pass http://(\w+);", conf)
        assert location and location.group(1) == next(iter(services)), resource


def _compose_cli() -> list[str] | None:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_config_is_valid():
    cli = _compose_cli()
    if cli is None:
        pytest.skip("neither 'docker compose' nor 'docker-compose' is installed to validate the file")
    env = {**os.environ, "GONGHUI_JWT_SECRET": "x" * 40, "GONGHUI_MEMBERS_PII_KEYS": "k", "GONGHUI_NOTIFY_PII_KEYS": "n",
           "GONGHUI_WELFARE_PII_KEYS": "w", "GONGHUI_FINGERPRINT_KEY": "f", "GONGHUI_CONTACT_KEYS": "c"}
    result = subprocess.run([*cli, "config", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    missing = subprocess.run([*cli, "config", "--quiet"], cwd=ROOT, capture_output=True, text=True,
                             env={k: v for k, v in env.items() if k != "GONGHUI_JWT_SECRET"})
    assert missing.returncode != 0 and "GONGHUI_JWT_SECRET" in missing.stderr  # secrets are mandatory
