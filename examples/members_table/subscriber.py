"""Keep a table of union members from gonghui's members topic: a start for an HR or payroll system.

    pip install -r requirements.txt
    python subscriber.py --bootstrap kafka:9092 --db members.sqlite

It reads ``gonghui.members.v1`` (CloudEvents 1.0 in Kafka's binary mode; the contract is the
AsyncAPI document the gateway serves at /asyncapi.json) with the CloudEvents SDK and keeps one row per
member in SQLite. What it relies on, as any subscriber should:

- Delivery is at least once, and a member's events arrive in order (the record key is the member).
  Each event carries the member's ``version``, so a row is only replaced by a newer version: a
  repeat or a replay changes nothing.
- It handles the member event types it knows and skips every other type on the topic, and reads
  only the fields it needs, so new fields and new event types do not break it.
- Offsets are committed after the rows are written: a crash repeats a little, never loses anything.
"""
from __future__ import annotations

import argparse
import logging
import sqlite3

from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event
from kafka import KafkaConsumer

log = logging.getLogger("members-table")

MEMBER_EVENTS = {f"gonghui.members.member.{name}"
                 for name in ("joined", "updated", "status_changed", "left")}

SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
    member_id       TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    status          TEXT NOT NULL,   -- active, suspended, left ...
    card_no         TEXT,            -- only member.joined carries it; kept from then on
    org_id          TEXT NOT NULL,
    employment_type TEXT,
    version         INTEGER NOT NULL
)"""

UPSERT = """
INSERT INTO members (member_id, name, status, card_no, org_id, employment_type, version)
VALUES (:member_id, :name, :status, :card_no, :org_id, :employment_type, :version)
ON CONFLICT (member_id) DO UPDATE SET
    name = excluded.name, status = excluded.status, card_no = COALESCE(excluded.card_no, members.card_no),
    org_id = excluded.org_id, employment_type = excluded.employment_type, version = excluded.version
WHERE excluded.version > members.version"""


def row(data: dict) -> dict:
    return {"member_id": data["member_id"], "name": data["name"], "status": data["status"],
            "card_no": data.get("card_no"), "org_id": data["org_id"],
            "employment_type": data.get("employment_type"), "version": data["version"]}


def apply(db: sqlite3.Connection, records) -> int:
    """Write the member events among ``records``; returns how many there were."""
    rows = []
    for record in records:
        event = from_binary_event(KafkaMessage(headers={k: v for k, v in record.headers or []},
                                               key=record.key, value=record.value))
        if event.get_type() in MEMBER_EVENTS:
            rows.append(row(event.get_data()))
    with db:  # one transaction per poll
        db.executemany(UPSERT, rows)
    return len(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--topic", default="gonghui.members.v1")
    parser.add_argument("--group", default="hr-members-table")
    parser.add_argument("--db", default="members.sqlite")
    parser.add_argument("--idle-exit", type=float, default=0,
                        help="stop after this many seconds without records (0: run until stopped)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    db = sqlite3.connect(args.db)
    db.execute(SCHEMA)
    consumer = KafkaConsumer(args.topic, bootstrap_servers=args.bootstrap.split(","), group_id=args.group,
                             enable_auto_commit=False, auto_offset_reset="earliest")
    idle = 0.0
    try:
        while not args.idle_exit or idle < args.idle_exit:
            batches = consumer.poll(timeout_ms=1000)
            records = [r for rs in batches.values() for r in rs]
            if not records:
                idle += 1.0
                continue
            idle = 0.0
            written = apply(db, records)
            consumer.commit()
            log.info("%d records, %d member events", len(records), written)
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
        db.close()


if __name__ == "__main__":
    main()
