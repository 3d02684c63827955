from __future__ import annotations

import pytest

from shared.worker import Worker
from tests.helpers import grassroots


@pytest.fixture
def members_app(settings_for):
    from services.members import create_app

    return create_app(settings_for("members"))


@pytest.fixture
def members(members_app):
    return members_app.test_client()


@pytest.fixture
def notify(settings_for):
    from services.notify import create_app

    return create_app(settings_for("notify")).test_client()


@pytest.fixture
def events_app(settings_for):
    from services.events import create_app

    return create_app(settings_for("events"))


@pytest.fixture
def ev(events_app):
    return events_app.test_client()


@pytest.fixture
def workers(settings_for):
    """Start service workers in-process (real Kafka, real database) on demand."""
    started = []

    def start(service: str, **overrides) -> Worker:
        import importlib

        spec = importlib.import_module(f"services.{service}.worker").SPEC
        worker = Worker(settings_for(service, **overrides), spec)
        worker.setup()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.close()


@pytest.fixture
def tree(members, bearer):
    """federation → industry → branch A, branch B (grassroots)."""
    op = bearer("operator")

    def create(body, headers=op):
        response = members.post("/api/v1/orgs", json=body, headers=headers)
        assert response.status_code == 201, response.json
        return response.json["id"]

    fed = create({"name": "市总工会", "kind": "federation"})
    industry = create({"name": "市教育工会", "kind": "industry", "parent_id": fed})
    a = create(grassroots("第一中学工会", industry, 1))
    b = create(grassroots("第二中学工会", industry, 2))
    return {"fed": fed, "industry": industry, "a": a, "b": b}
