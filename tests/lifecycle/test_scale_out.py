"""Several worker processes of a service: they share the consumed partitions, one relays at a time,
and every member still gets exactly one welcome."""
from __future__ import annotations

import time

import pytest
from kafka import KafkaAdminClient

from tests.helpers import eventually, grassroots, member_body
from tests.stacks import Http, database, new_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def scaled(infra, tmp_path, namespace):
    s = new_stack(infra, tmp_path / "stack", namespace, env={"GONGHUI_CONSUMER_BATCH": "5"},
                  worker_counts={"members": 2, "notify": 2})
    s.start_services(services=("members", "notify"))
    yield s
    s.stop()


def test_two_workers_per_service_deliver_each_welcome_exactly_once(scaled, namespace):
    http = Http(scaled)
    assert {"members", "members#2", "notify", "notify#2"} <= set(scaled.workers)
    fed = http.post("members", "/api/v1/orgs", {"name": "市总工会", "kind": "federation"}, roles="operator").json()["id"]
    branch = http.post("members", "/api/v1/orgs", grassroots("甲公司工会", fed, 1), roles="admin", org=fed).json()["id"]
    ids = [http.post("members", "/api/v1/members", member_body(branch, n), roles="admin", org=branch).json()["id"]
           for n in range(60)]
    inbox = database(scaled, "notify")["inbox_messages"]
    eventually(lambda: inbox.count_documents({"member_id": {"$in": ids}}) >= 60, timeout=60,
               message="all welcomes delivered")
    time.sleep(2)  # anything duplicated would land now
    assert inbox.count_documents({"member_id": {"$in": ids}}) == 60
    # both notify workers are members of the consumer group, each with partitions of its own
    admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{scaled.kafka_port}")
    try:
        group_id = namespace.replace("_", ".") + "gonghui.notify"
        group = admin.describe_groups([group_id])[group_id]
    finally:
        admin.close()
    assert group["group_state"] == "Stable" and len(group["members"]) == 2
    assert all(member["member_assignment"]["assigned_partitions"] for member in group["members"])
