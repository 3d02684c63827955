from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from shared import auth
from shared.localinfra.process import free_port
from shared.localinfra.stack import SERVICES, Stack


@pytest.fixture
def stack(infra, tmp_path, namespace):
    """The four services as separate gunicorn + worker processes on the session's
    real Kafka and FerretDB, with a namespace of their own."""
    s = Stack(data_dir=tmp_path / "stack", kafka_port=infra.kafka.port, mongo_port=infra.ferret.port,
              ports={svc: free_port() for svc in SERVICES},
              extra_env={"GONGHUI_DB_PREFIX": namespace, "GONGHUI_TOPIC_PREFIX": namespace.replace("_", "."),
                         "GONGHUI_LOG_LEVEL": "WARNING", "GONGHUI_CONSUMER_BATCH": "1"})
    s.start_services()
    yield s
    s.stop()


class Http:
    def __init__(self, stack: Stack):
        self.stack = stack
        self.secret = stack.env()["GONGHUI_JWT_SECRET"]

    def headers(self, roles, org=None, sub=None):
        roles = [roles] if isinstance(roles, str) else roles
        return {"Authorization": "Bearer " + auth.mint(self.secret, sub or roles[0], roles, org, timedelta(hours=1))}

    def post(self, service, path, body, **who):
        return requests.post(self.stack.url(service) + path, json=body, headers=self.headers(**who), timeout=10)

    def put(self, service, path, body, **who):
        return requests.put(self.stack.url(service) + path, json=body, headers=self.headers(**who), timeout=10)

    def get(self, service, path, **who):
        return requests.get(self.stack.url(service) + path, headers=self.headers(**who), timeout=10)


@pytest.fixture
def http(stack):
    return Http(stack)
