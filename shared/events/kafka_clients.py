"""kafka-python clients with the settings every service needs.

Create them inside a worker or after gunicorn forks, never at import time:
the producer runs a background thread and the consumer is not thread safe.
"""
from __future__ import annotations

import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from ..config import Settings


def producer(settings: Settings) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        client_id=f"gonghui-{settings.service}",
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        retries=5,
        max_block_ms=10_000,
        request_timeout_ms=10_000,
        delivery_timeout_ms=30_000,
    )


def consumer(settings: Settings, topics: list[str], timeout: float = 30.0) -> KafkaConsumer:
    client = KafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        client_id=f"gonghui-{settings.service}",
        group_id=settings.group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=200,
        # Under load a fetch waits up to batch_wait_ms for 64 KiB, so that a poll carries many records and
        # its fixed costs (the processed-id look-up, the bulk writes, the commit) are paid once for them.
        fetch_min_bytes=64 * 1024 if settings.batch_wait_ms else 1,
        fetch_max_wait_ms=settings.batch_wait_ms or 500,
        max_poll_interval_ms=300_000,
        metadata_max_age_ms=30_000,  # notice new partitions (and recover a missed topic) within 30 s
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
    )
    # Know every topic's partitions before the first poll joins the group: a
    # member that leads the assignment without them hands out nothing for them.
    deadline = time.monotonic() + timeout
    while missing := [t for t in topics if not client.partitions_for_topic(t)]:
        if time.monotonic() > deadline:
            client.close()
            raise TimeoutError(f"no partition metadata for {', '.join(missing)}")
        time.sleep(0.2)
    return client


# Every topic, dead letters included, keeps records for 7 days (consumers remember handled ids for 14):
# explicit, so that no broker default can keep contact events or their dead letters forever.
TOPIC_CONFIGS = {"retention.ms": str(7 * 24 * 3600 * 1000)}


def ensure_topics(settings: Settings, topics: list[str], partitions: int = 6, timeout: float = 30.0) -> None:
    """Create missing topics and wait until every partition has a leader: a
    consumer that joins its group before then is assigned nothing for the
    topic until its next metadata refresh."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","), request_timeout_ms=10_000)
    try:
        existing = set(admin.list_topics())
        missing = [NewTopic(t, num_partitions=partitions, replication_factor=1, topic_configs=TOPIC_CONFIGS)
                   for t in topics if t not in existing]
        if missing:
            try:
                admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
        deadline = time.monotonic() + timeout
        while True:
            described = admin.describe_topics(list(topics))
            ready = all(t["error_code"] == 0 and t["partitions"] and all(p["leader_id"] >= 0 for p in t["partitions"])
                        for t in described)
            if ready:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics without leaders after {timeout:.0f}s: "
                                   + ", ".join(t["name"] for t in described if t["error_code"] or not t["partitions"]))
            time.sleep(0.2)
    finally:
        admin.close()
