"""Session-scoped real infrastructure for the test suite.

``infra`` starts one FerretDB and one Kafka node for the whole session in a
temporary directory; each test then gets its own database prefix and topic
prefix (``settings_for``), so tests share the processes but not the data.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.config import Settings
from shared.localinfra.ferretdb import FerretDB
from shared.localinfra.kafka import KafkaNode
from shared.localinfra.process import free_port
from shared.pii import new_key

JWT_SECRET = "test-secret-" + "x" * 40


@dataclass
class Infra:
    ferret: FerretDB
    kafka: KafkaNode
    data_dir: Path


@pytest.fixture(scope="session")
def infra(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("infra")
    ferret = FerretDB(data_dir / "ferretdb", free_port()).start()
    kafka = KafkaNode(data_dir / "kafka", free_port(), free_port()).start()
    yield Infra(ferret, kafka, data_dir)
    kafka.stop()
    ferret.stop()


CONTACT_KEY = new_key()  # members seals contact events with it, notify opens them


@pytest.fixture(scope="session")
def pii_key():
    return new_key()


@pytest.fixture
def namespace():
    """A prefix unique to one test, for database names and topics."""
    return f"t{uuid.uuid4().hex[:10]}_"


@pytest.fixture
def settings_for(infra, namespace, pii_key):
    def make(service: str, **overrides) -> Settings:
        values = dict(mongo_url=infra.ferret.url, db_prefix=namespace, kafka_bootstrap=infra.kafka.bootstrap,
                      topic_prefix=namespace.replace("_", "."), jwt_secret=JWT_SECRET, pii_key=pii_key,
                      contact_keys=CONTACT_KEY, log_level="WARNING")
        values.update(overrides)
        return Settings(service=service, **values)
    return make
