"""Backbone throughput: how fast writes become events and events become
welcomes, against a baseline of raw Kafka produce+consume in the same run.

    .venv/bin/python bench/welcome_throughput.py [N]

Starts its own FerretDB and Kafka (in a temporary directory) and the four
services as processes, then prints figures; nothing here is a test.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import requests
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared import auth  # noqa: E402
from shared.localinfra.ferretdb import FerretDB  # noqa: E402
from shared.localinfra.kafka import KafkaNode  # noqa: E402
from shared.localinfra.process import free_port  # noqa: E402
from shared.localinfra.stack import SERVICES, Stack  # noqa: E402
from tests.helpers import grassroots, member_body  # noqa: E402


def baseline_kafka(bootstrap: str, n: int) -> float:
    """Raw kafka-python: produce n records (acks=all, idempotent) and consume them back."""
    from kafka import KafkaConsumer, KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    value = b'{"member_id":"x","name":"y"}' * 8
    started = time.perf_counter()
    for i in range(n):
        producer.send("bench.baseline", key=str(i).encode(), value=value)
    producer.flush()
    consumer = KafkaConsumer("bench.baseline", bootstrap_servers=bootstrap, group_id="bench",
                             auto_offset_reset="earliest", enable_auto_commit=False)
    seen = 0
    while seen < n:
        seen += sum(len(b) for b in consumer.poll(timeout_ms=500).values())
    consumer.commit()
    elapsed = time.perf_counter() - started
    consumer.close()
    producer.close()
    return n / elapsed


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        ferret = FerretDB(data / "ferretdb", free_port()).start()
        kafka = KafkaNode(data / "kafka", free_port(), free_port()).start()
        stack = Stack(data_dir=data / "stack", kafka_port=kafka.port, mongo_port=ferret.port,
                      ports={s: free_port() for s in SERVICES}, extra_env={"GONGHUI_LOG_LEVEL": "WARNING"})
        try:
            base = baseline_kafka(kafka.bootstrap, n)
            stack.start_services()
            secret = stack.env()["GONGHUI_JWT_SECRET"]
            op = {"Authorization": "Bearer " + auth.mint(secret, "op", ["operator"], ttl=timedelta(hours=1))}
            members = stack.url("members")
            fed = requests.post(f"{members}/api/v1/orgs", json={"name": "总工会", "kind": "federation"},
                                headers=op).json()["id"]
            branch = requests.post(f"{members}/api/v1/orgs", json=grassroots("工会", fed), headers=op).json()["id"]
            session = requests.Session()
            registered_at = {}

            def register(i):
                t = time.time()
                r = session.post(f"{members}/api/v1/members", json=member_body(branch, i), headers=op, timeout=30)
                r.raise_for_status()
                registered_at[r.json()["id"]] = t
                return time.perf_counter()

            started = time.perf_counter()
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(register, range(n)))
            http_elapsed = time.perf_counter() - started

            inbox = MongoClient(ferret.url)["gonghui_notify"]["inbox_messages"]
            deadline = time.monotonic() + 300
            while inbox.count_documents({}) < n and time.monotonic() < deadline:
                time.sleep(0.05)
            all_delivered = time.perf_counter() - started
            lags = sorted(doc["created_at"].timestamp() - registered_at[doc["member_id"]]
                          for doc in inbox.find({}, {"created_at": 1, "member_id": 1}))
            flow = n / all_delivered
            print(f"members registered over HTTP (4 clients, 2 gunicorn workers): {n / http_elapsed:8.1f} req/s")
            print(f"registration → welcome in inbox, whole run:                  {flow:8.1f} members/s")
            print(f"welcome lag after registration: p50 {statistics.median(lags) * 1000:.0f} ms, "
                  f"p95 {lags[int(len(lags) * 0.95) - 1] * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms")
            print(f"baseline raw Kafka produce+consume (same broker):            {base:8.1f} msgs/s")
            print(f"ratio flow / raw Kafka:                                       {flow / base:8.3f}")
        finally:
            stack.stop()
            kafka.stop()
            ferret.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
