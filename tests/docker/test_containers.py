"""The members → notify flow against real MongoDB and Kafka images.

Runs where a Docker engine is present (testcontainers); skips, saying why,
where none is.
"""
from __future__ import annotations

import pytest

from shared.config import Settings
from shared.pii import new_key
from shared.worker import Worker
from tests.helpers import eventually, grassroots, member_body

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def containers(docker_engine):
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    with MongoDbContainer("mongo:7.0") as mongo, KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft() as kafka:
        yield mongo.get_connection_url(), kafka.get_bootstrap_server()


def test_welcome_flow_on_real_images(containers, bearer):
    import importlib

    from services.members import create_app as members_app
    from services.notify import create_app as notify_app
    from tests.conftest import JWT_SECRET

    mongo_url, bootstrap = containers
    common = dict(mongo_url=mongo_url, kafka_bootstrap=bootstrap, jwt_secret=JWT_SECRET, pii_key=new_key(),
                  db_prefix="tc_")
    members = members_app(Settings(service="members", **common)).test_client()
    notify = notify_app(Settings(service="notify", **common)).test_client()
    op = bearer("operator")
    fed = members.post("/api/v1/orgs", json={"name": "总工会", "kind": "federation"}, headers=op).json["id"]
    branch = members.post("/api/v1/orgs", json=grassroots("工会", fed), headers=op).json["id"]
    member = members.post("/api/v1/members", json=member_body(branch, 1), headers=op).json
    workers = [Worker(Settings(service=s, **common), importlib.import_module(f"services.{s}.worker").SPEC)
               for s in ("members", "notify")]
    for w in workers:
        w.setup()

    def delivered():
        for w in workers:
            w.turn()
        return notify.get(f"/api/v1/inbox?member_id={member['id']}", headers=op).json.get("items")

    assert eventually(delivered, timeout=60, interval=0)[0]["title"] == "欢迎加入工会"
    for w in workers:
        w.close()
