"""The stack as separate processes for the end-to-end tests, and an HTTP client with tokens of any role."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import requests
from pymongo import MongoClient

from shared import auth
from shared.localinfra.process import free_port
from shared.localinfra.stack import SERVICES, Stack
from tests.helpers import grassroots


def new_stack(infra, data_dir: Path, namespace: str, *, env: dict | None = None, **options) -> Stack:
    """A stack (not started) on the session's real Kafka and FerretDB, in a namespace of its own."""
    return Stack(data_dir=data_dir, kafka_port=infra.kafka.port, mongo_port=infra.ferret.port,
                 ports={svc: free_port() for svc in SERVICES},
                 extra_env={"GONGHUI_DB_PREFIX": namespace, "GONGHUI_TOPIC_PREFIX": namespace.replace("_", "."),
                            "GONGHUI_LOG_LEVEL": "WARNING", **(env or {})}, **options)


def database(stack: Stack, service: str):
    """A service's own database in the stack's namespace, to look at what the API does not show."""
    return MongoClient(stack.env()["GONGHUI_MONGO_URL"])[stack.extra_env["GONGHUI_DB_PREFIX"] + service]


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


def federation_with_two_branches(http: Http, serial: int) -> tuple[str, str, str]:
    fed = http.post("members", "/api/v1/orgs", {"name": "市总工会", "kind": "federation"}, roles="operator").json()["id"]
    a = http.post("members", "/api/v1/orgs", grassroots("甲公司工会", fed, serial + 1), roles="admin", org=fed).json()["id"]
    b = http.post("members", "/api/v1/orgs", grassroots("乙公司工会", fed, serial + 2), roles="admin", org=fed).json()["id"]
    return fed, a, b
