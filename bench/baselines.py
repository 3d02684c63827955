"""Baselines measured in the same run as the figures they sit beside: a bare Flask
echo under the same gunicorn settings, raw pymongo doing a registration's writes,
raw kafka-python producing and consuming, and a raw consumer doing notify's writes."""
from __future__ import annotations

import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from bson import ObjectId
from pymongo import InsertOne, MongoClient, UpdateOne
from pymongo.errors import BulkWriteError

from shared.config import Settings
from shared.localinfra.process import Child, free_port, wait_for_port

from .cpu import LOAD_GENERATOR, CpuMeter, CpuSpent
from .load import Run, closed_loop, in_parallel

ROOT = Path(__file__).resolve().parents[1]

ECHO_APP = '''
from flask import Flask, request, jsonify
app = Flask("echo")

@app.post("/echo")
def echo():
    return jsonify(request.get_json()), 201
'''


def flask_echo(data_dir: Path, web_workers: int, clients: int, total: int) -> Run:
    """A bare Flask JSON echo on gunicorn with the services' settings, under the same load."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "echo_app.py").write_text(ECHO_APP)
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "--workers", str(web_workers), "--bind", f"127.0.0.1:{port}",
            "--config", str(ROOT / "deploy" / "gunicorn.conf.py"), "--chdir", str(data_dir), "echo_app:app"]
    child = Child.start("echo", argv, data_dir / "echo.log", env={"GONGHUI_LOG_LEVEL": "WARNING"})
    try:
        wait_for_port("127.0.0.1", port, child.proc, 30, "echo")
        body = {"name": "职工", "gender": "male", "org_id": "x" * 24, "employment_type": "migrant"}
        closed_loop(f"http://127.0.0.1:{port}", {}, clients, 200, lambda i: ("POST", "/echo", body))  # warm
        return closed_loop(f"http://127.0.0.1:{port}", {}, clients, total, lambda i: ("POST", "/echo", body))
    finally:
        child.stop()


def pymongo_registrations(mongo_url: str, threads: int, total: int, template: dict, indexes: dict,
                          meter: CpuMeter) -> tuple[Run, CpuSpent]:
    """A registration's database work without the service: read the organisation, take a card number
    (a thread reserves a block of them at a time, as a web process does), insert the outbox pointer and
    the member document (``template`` is a real member document), into collections indexed as the
    service's are (``indexes``: each collection's ``index_information()``), so that the writes are the same.
    Returns the run and the CPU that this process, FerretDB and PostgreSQL spent on it."""
    client = MongoClient(mongo_url)
    db = client[f"bench_raw_{uuid.uuid4().hex[:8]}"]
    org_id = ObjectId()
    db.organisations.insert_one({"_id": org_id, "name": "工会", "path": [str(org_id)]})
    for collection in ("members", "outbox_pointers"):
        for name, spec in indexes[collection].items():
            if name != "_id_":
                options = {k: v for k, v in spec.items() if k not in ("key", "v", "ns")}
                keys = [(field, int(order) if isinstance(order, float) else order) for field, order in spec["key"]]
                db[collection].create_index(keys, name=name, **options)
    # a new member's two events travel in its pointer (see shared/events/outbox.py): about this size
    event = {"id": "e" * 32, "type": "gonghui.members.member.joined", "subject": "s" * 24,
             "time": "2026-11-23T00:00:00Z", "dataschema": "urn:gonghui:schema:gonghui.members.member.joined:1",
             "data": {k: template.get(k) for k in ("name", "gender", "employment_type", "status", "org_id", "org_path",
                                                   "card_no", "honours", "version")}}

    block = Settings.card_number_block

    def make_worker():
        cards = iter(())

        def call(i):
            nonlocal cards
            started = time.perf_counter()
            db.organisations.find_one({"_id": org_id})
            card = next(cards, None)
            if card is None:
                last = db.counters.find_one_and_update({"_id": "card_no"}, {"$inc": {"value": block}}, upsert=True,
                                                       return_document=True)["value"]
                cards = iter(range(last - block + 1, last + 1))
                card = next(cards)
            member_id = ObjectId()
            db.outbox_pointers.insert_one({"_id": ObjectId(), "collection": "members", "doc_id": member_id,
                                           "events": ["a", "b"], "payload": [event, event],
                                           "at": template["created_at"], "due": template["created_at"], "tries": 0})
            db.members.insert_one({**template, "_id": member_id, "id_number_fingerprint": f"fp{i}",
                                   "card_no": f"GH2026{card:08d}"})
            return time.perf_counter() - started, False
        return call

    cpu_before = meter.read()
    run = in_parallel(threads, total, make_worker)
    spent = meter.since(cpu_before, parts={LOAD_GENERATOR, "FerretDB", "PostgreSQL"})
    client.drop_database(db.name)
    client.close()
    return run, spent


def kafka_produce_consume(bootstrap: str, n: int, value_bytes: int = 600) -> tuple[float, float]:
    """Raw kafka-python with batching, on a topic created beforehand and warmed clients:
    (records/s produced with acks=all and idempotence, records/s consumed)."""
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
    from kafka.admin import NewTopic

    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=15,
                             batch_size=128 * 1024, max_request_size=4 * 1024 * 1024)
    value = b"x" * value_bytes
    for i in range(1000):  # warm: metadata, connections, the producer id
        producer.send(topic, key=str(i).encode(), value=value)
    producer.flush()
    started = time.perf_counter()
    for i in range(n):
        producer.send(topic, key=str(i).encode(), value=value)
    producer.flush()
    produce_rate = n / (time.perf_counter() - started)
    producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"bench-{uuid.uuid4().hex[:6]}",
                             auto_offset_reset="earliest", enable_auto_commit=False, max_poll_records=2000,
                             fetch_max_bytes=16 * 1024 * 1024)
    seen = 0
    while seen < 1000:  # warm: the group join and the first fetch
        seen += sum(len(b) for b in consumer.poll(timeout_ms=500).values())
    started = time.perf_counter()
    while seen < n + 1000:
        seen += sum(len(b) for b in consumer.poll(timeout_ms=500).values())
    consume_rate = n / (time.perf_counter() - started)
    consumer.close()
    return produce_rate, consume_rate


def raw_notify_consumer(bootstrap: str, topic: str, mongo_url: str, expected: int) -> float:
    """kafka-python reading the same records as notify's consumer and doing the same writes with
    pymongo (processed ids, recipients, inbox messages and their outbox pointers), batch by batch."""
    import json

    from kafka import KafkaConsumer

    client = MongoClient(mongo_url)
    db = client[f"bench_rawnotify_{uuid.uuid4().hex[:8]}"]
    db.inbox_messages.create_index("dedupe_key", unique=True)
    db.inbox_messages.create_index([("member_id", 1), ("_id", -1)])
    db.outbox_pointers.create_index("due")
    db.processed_events.create_index("handled_at")
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"bench-raw-{uuid.uuid4().hex[:6]}",
                             auto_offset_reset="earliest", enable_auto_commit=False, max_poll_records=200)
    handled, started = 0, None
    while handled < expected:
        batches = consumer.poll(timeout_ms=500)
        if not batches:
            continue
        started = started or time.perf_counter()
        records = [r for batch in batches.values() for r in batch]
        now = datetime.now(timezone.utc)
        keys = [f"g|/gonghui/members|{dict(r.headers)['ce_id'].decode()}" for r in records]
        seen = {d["_id"] for d in db.processed_events.find({"_id": {"$in": keys}}, {"_id": 1})}
        fresh = [(k, json.loads(r.value)) for k, r in zip(keys, records, strict=True) if k not in seen]
        joined = [data for _, data in fresh if "card_no" in data]
        if joined:
            try:  # new recipients in one insert; the few that exist get a conditional update
                db.recipients.insert_many([{"_id": d["member_id"], "name": d["name"], "org_path": d["org_path"],
                                            "status": d["status"], "version": d["version"]} for d in joined],
                                          ordered=False)
            except BulkWriteError as exc:
                db.recipients.bulk_write([UpdateOne({"_id": joined[e["index"]]["member_id"],
                                                     "version": {"$lt": joined[e["index"]]["version"]}},
                                                    {"$set": {"status": joined[e["index"]]["status"]}})
                                          for e in exc.details["writeErrors"]], ordered=False)
            messages = [{"_id": ObjectId(), "outbox": [], "dedupe_key": f"welcome|{d['member_id']}",
                         "member_id": d["member_id"], "org_path": d["org_path"], "category": "membership",
                         "title": "欢迎加入工会", "body": f"{d['name']}，您好！欢迎您加入工会。", "created_at": now}
                        for d in joined]
            # each message's delivered event travels in its pointer, as notify's do
            db.outbox_pointers.bulk_write([InsertOne({
                "_id": ObjectId(), "collection": "inbox_messages", "doc_id": m["_id"], "events": ["e"],
                "payload": [{"id": uuid.uuid4().hex, "type": "gonghui.notify.message.delivered",
                             "subject": str(m["_id"]), "time": now.isoformat(),
                             "data": {"message_id": str(m["_id"]), "member_id": m["member_id"], "channel": "inbox",
                                      "category": "membership", "delivered_at": now.isoformat()}}],
                "at": now, "due": now, "tries": 0}) for m in messages], ordered=False)
            db.inbox_messages.insert_many(messages, ordered=False)
        if fresh:
            db.processed_events.insert_many([{"_id": k, "handled_at": now} for k, _ in fresh], ordered=False)
        consumer.commit()
        handled += len(records)
    rate = expected / (time.perf_counter() - started)
    consumer.close()
    client.drop_database(db.name)
    client.close()
    return rate
