"""Periodic jobs that run in a process of their own (shared.worker.in_own_process): roster imports."""
from __future__ import annotations

import os

import pytest
from mongoengine.connection import get_db

from shared import db
from shared.worker import in_own_process

pytestmark = pytest.mark.integration


def record_pid(settings) -> None:
    """The job: say which process ran it, in the service's own database."""
    get_db(settings.service)["job_runs"].insert_one({"pid": os.getpid(), "service": settings.service})


@pytest.fixture
def env_of(monkeypatch):
    def apply(settings):
        for name, value in {"GONGHUI_MONGO_URL": settings.mongo_url, "GONGHUI_DB_PREFIX": settings.db_prefix,
                            "GONGHUI_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
                            "GONGHUI_TOPIC_PREFIX": settings.topic_prefix, "GONGHUI_JWT_SECRET": settings.jwt_secret,
                            "GONGHUI_PII_KEY": settings.pii_key, "GONGHUI_CONTACT_KEYS": settings.contact_keys,
                            "GONGHUI_LOG_LEVEL": "WARNING"}.items():
            monkeypatch.setenv(name, value)
    return apply


def test_a_job_runs_in_a_spawned_process_only_when_there_is_work(settings_for, env_of):
    settings = settings_for("members")
    env_of(settings)
    db.connect(settings)
    runs = get_db(settings.service)["job_runs"]

    assert in_own_process(record_pid, when=lambda: False)(settings) == 0
    assert runs.count_documents({}) == 0

    job = in_own_process(record_pid, when=lambda: True)
    assert job.__name__ == "record_pid"
    assert job(settings) == 1
    [run] = list(runs.find())
    assert run["pid"] != os.getpid() and run["service"] == "members"
