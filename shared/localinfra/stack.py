"""The whole platform as local processes: Kafka, FerretDB, four services.

Used by ``gonghui run`` (``make run``) and by the end-to-end tests. Every
service gets a gunicorn web process and a separate worker process, all
sharing the real broker and database like containers in compose would.
"""
from __future__ import annotations

import json
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from shared.pii import new_key

from .ferretdb import FerretDB
from .kafka import KafkaNode
from .process import Child, require_free, wait_for_port

SERVICES = ("members", "events", "welfare", "notify")
DEFAULT_PORTS = {"members": 8001, "events": 8002, "welfare": 8003, "notify": 8004}


SECRETS = {  # name in secrets.json → how a fresh one is made
    "GONGHUI_JWT_SECRET": lambda: secrets.token_urlsafe(48),
    "GONGHUI_MEMBERS_PII_KEYS": new_key,
    "GONGHUI_NOTIFY_PII_KEYS": new_key,
    "GONGHUI_WELFARE_PII_KEYS": new_key,
    "GONGHUI_FINGERPRINT_KEY": lambda: secrets.token_urlsafe(48),
    "GONGHUI_CONTACT_KEYS": new_key,
}


def load_or_create_secrets(data_dir: Path) -> dict:
    """Secrets from the environment; otherwise generated once and kept with the data,
    so a second run can still read the first run's data and tokens."""
    path = data_dir / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    legacy = stored.get("GONGHUI_PII_KEY")  # data directories from before each service had its own keys
    if legacy:
        stored.setdefault("GONGHUI_MEMBERS_PII_KEYS", legacy)  # the fingerprint key stays derived from it
        stored.setdefault("GONGHUI_NOTIFY_PII_KEYS", f"{new_key()},{legacy}")
        stored.setdefault("GONGHUI_FINGERPRINT_KEY", "")
    values = {name: os.environ.get(name) or (stored[name] if name in stored else make())
              for name, make in SECRETS.items()}
    if values != stored:
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
        path.chmod(0o600)
    return values


def service_env(service: str, values: dict) -> dict:
    """Each service gets only the keys it needs (README, "Security")."""
    env = {"GONGHUI_JWT_SECRET": values["GONGHUI_JWT_SECRET"]}
    if service == "members":
        env.update(GONGHUI_PII_KEYS=values["GONGHUI_MEMBERS_PII_KEYS"], GONGHUI_CONTACT_KEYS=values["GONGHUI_CONTACT_KEYS"])
        if values["GONGHUI_FINGERPRINT_KEY"]:
            env["GONGHUI_FINGERPRINT_KEY"] = values["GONGHUI_FINGERPRINT_KEY"]
    elif service == "welfare":
        env.update(GONGHUI_PII_KEYS=values["GONGHUI_WELFARE_PII_KEYS"])
    elif service == "notify":
        env.update(GONGHUI_PII_KEYS=values["GONGHUI_NOTIFY_PII_KEYS"], GONGHUI_CONTACT_KEYS=values["GONGHUI_CONTACT_KEYS"])
    return env


@dataclass
class Stack:
    data_dir: Path
    kafka_port: int = 9092
    controller_port: int = 9093
    mongo_port: int = 27017
    ports: dict = field(default_factory=lambda: dict(DEFAULT_PORTS))
    web_workers: int = 2
    worker_counts: dict = field(default_factory=dict)  # service -> worker processes (default 1)
    extra_env: dict = field(default_factory=dict)
    kafka: KafkaNode | None = None
    ferret: FerretDB | None = None
    webs: dict = field(default_factory=dict)
    workers: dict = field(default_factory=dict)

    def secrets(self) -> dict:
        return load_or_create_secrets(self.data_dir)

    def env(self, service: str | None = None) -> dict:
        """The environment of a service's processes (without ``service``: what every one shares)."""
        values = self.secrets()
        return {
            **(service_env(service, values) if service else {"GONGHUI_JWT_SECRET": values["GONGHUI_JWT_SECRET"]}),
            "GONGHUI_MONGO_URL": f"mongodb://127.0.0.1:{self.mongo_port}/",
            "GONGHUI_KAFKA_BOOTSTRAP": f"127.0.0.1:{self.kafka_port}",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start_infra(self) -> None:
        self.ferret = FerretDB(self.data_dir / "ferretdb", self.mongo_port).start()
        self.kafka = KafkaNode(self.data_dir / "kafka", self.kafka_port, self.controller_port).start()

    def start_web(self, service: str) -> Child:
        require_free(self.ports[service], f"{service}-web")
        argv = [sys.executable, "-m", "gunicorn", "--workers", str(self.web_workers),
                "--bind", f"127.0.0.1:{self.ports[service]}", "--graceful-timeout", "10",
                "--config", str(Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"),
                f"services.{service}.wsgi:app"]
        child = Child.start(f"{service}-web", argv, self.data_dir / "logs" / f"{service}-web.log",
                            env=self.env(service))
        self.webs[service] = child
        return child

    def start_worker(self, service: str, replica: int = 1) -> Child:
        """Worker processes of one service share its consumed partitions; one of them relays."""
        name = service if replica == 1 else f"{service}#{replica}"
        argv = [sys.executable, "-m", f"services.{service}.worker"]
        heartbeat = self.heartbeat(name)
        heartbeat.parent.mkdir(parents=True, exist_ok=True)
        heartbeat.unlink(missing_ok=True)  # a previous process's: this one has not turned yet
        child = Child.start(f"{name}-worker", argv, self.data_dir / "logs" / f"{name.replace('#', '-')}-worker.log",
                            env={**self.env(service), "GONGHUI_HEARTBEAT_FILE": str(heartbeat)})
        self.workers[name] = child
        return child

    def heartbeat(self, worker: str) -> Path:
        """The file a worker touches once its loop turns (after its first poll) and every few seconds after."""
        return self.data_dir / "heartbeats" / worker.replace("#", "-")

    def start_services(self, services=SERVICES, timeout: float = 60) -> None:
        for service in services:
            self.start_web(service)
            for replica in range(1, self.worker_counts.get(service, 1) + 1):
                self.start_worker(service, replica)
        for service in services:
            self.wait_ready(service, timeout)

    def wait_ready(self, service: str, timeout: float = 60) -> None:
        """Until the service's web answers ready and each of its workers has turned its loop once: an
        event written as soon as this returns is handled at once, not after a worker's start."""
        child = self.webs[service]
        wait_for_port("127.0.0.1", self.ports[service], child.proc, timeout, f"{service}-web")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url(service) + "/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if not child.alive():
                raise RuntimeError(f"{service} not ready:\n{child.tail()}")
            time.sleep(0.3)
        else:
            raise RuntimeError(f"{service} not ready:\n{child.tail()}")
        for name, worker in self.workers.items():
            if name.partition("#")[0] != service:
                continue
            while not self.heartbeat(name).exists():
                if not worker.alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} worker not running:\n{worker.tail()}")
                time.sleep(0.1)

    def stop(self) -> None:
        children = [*self.workers.values(), *self.webs.values()]
        for child in children:
            child.ask_to_stop()
        for child in children:
            child.stop()
        for infra in (self.kafka, self.ferret):
            if infra is not None:
                infra.stop()
