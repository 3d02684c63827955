"""The notify worker killed between sending and recording, then the topic replayed: every member gets
each message exactly once in the mailbox and at the SMS gateway, nothing is lost.

The stack's members and notify run as processes on the real broker and database; members registered over
HTTP reach notify with their contact details; each chooses email and SMS. Welfare's decisions are
published on its topic as the welfare service publishes them. The SMTP server kills the notify worker
(SIGKILL) the moment a mail has arrived, before it answers; the worker is started again, notify's record
of processed events is wiped and every event is published again. What a receiver got twice (the mail in
flight at the kill, SMS in flight on other threads) carries the same Message-ID / Idempotency-Key and
was logged as interrupted: the mailbox and the gateway keep one."""
from __future__ import annotations

import time
import uuid

import pytest

from services.notify.app.sending import THREADS
from services.welfare.published import ALL as WELFARE_TYPES
from shared.config import Settings
from shared.events import kafka_clients
from shared.events.envelope import CloudEvent
from tests.helpers import eventually, grassroots, member_body
from tests.receivers import Mailbox, SmsGateway
from tests.stacks import Http, database, new_stack

pytestmark = pytest.mark.e2e
MEMBERS = 24
APPROVED = "gonghui.welfare.application.approved"


@pytest.fixture
def receivers():
    mailbox, gateway = Mailbox().start(), SmsGateway().start()
    yield mailbox, gateway
    mailbox.stop()
    gateway.stop()


def _publish(settings: Settings, events: list[CloudEvent]) -> None:
    producer = kafka_clients.producer(settings)
    for event in events:
        key, headers, value = event.to_record()
        producer.send(settings.topic("gonghui.welfare.v1"), key=key, value=value, headers=headers)
    producer.flush(timeout=30)
    producer.close()


def test_a_worker_killed_between_sending_and_recording_then_replayed_sends_each_message_once(
        infra, tmp_path, namespace, receivers):
    mailbox, gateway = receivers
    topics = namespace.replace("_", ".")
    stack = new_stack(infra, tmp_path / "stack", namespace, env={
        "GONGHUI_SMTP_HOST": "127.0.0.1", "GONGHUI_SMTP_PORT": str(mailbox.port), "GONGHUI_SMTP_TLS": "none",
        "GONGHUI_SMS_URL": gateway.url, "GONGHUI_SMS_KEY": gateway.key,
        "GONGHUI_DELIVERY_LEASE_SECONDS": "3", "GONGHUI_DELIVERY_BACKOFF_SECONDS": "0.5"})
    try:
        stack.start_services(services=("members", "notify"))
        http = Http(stack)
        fed = http.post("members", "/api/v1/orgs", {"name": "市总工会", "kind": "federation"}, roles="operator")
        branch = http.post("members", "/api/v1/orgs", grassroots("第一中学工会", fed.json()["id"]), roles="operator")
        branch_id = branch.json()["id"]
        people = {}
        for n in range(MEMBERS):
            body = member_body(branch_id, n + 1, email=f"w{n}@example.com")
            answer = http.post("members", "/api/v1/members", body, roles="admin", org=branch_id)
            assert answer.status_code == 201, answer.text
            people[answer.json()["id"]] = (body["phone"], body["email"])
        notify_db = database(stack, "notify")
        eventually(lambda: notify_db.contacts.count_documents({"_id": {"$in": list(people)}}) == MEMBERS,
                   timeout=60, message="contacts at notify")
        for member_id in people:
            answer = http.put("notify", f"/api/v1/preferences/{member_id}",
                              {"channels": {"assistance": {"email": True, "sms": True}},
                               "quiet_start": "00:00", "quiet_end": "00:00"}, roles="member", org=branch_id, sub=member_id)
            assert answer.status_code == 200, answer.text

        worker = stack.workers["notify"]
        mailbox.on_receive = lambda count: worker.kill() if count == 5 else None
        schema = next(t for t in WELFARE_TYPES if t.name == APPROVED).schema
        events = [CloudEvent(type=APPROVED, source="/gonghui/welfare", subject=f"app{n}", id=uuid.uuid4().hex,
                             data={**schema["examples"][0], "member_id": member_id, "application_id": f"app{n}"})
                  for n, member_id in enumerate(people)]
        settings = Settings(service="test", kafka_bootstrap=infra.kafka.bootstrap, topic_prefix=topics)
        _publish(settings, events)
        eventually(lambda: not worker.alive(), timeout=60, message="the worker killed by the mailbox")
        mailbox.on_receive = None

        notify_db.processed_events.delete_many({})  # the replay is handled again, not skipped as seen
        _publish(settings, events)
        stack.start_worker("notify")

        def all_sent():
            return notify_db.deliveries.count_documents({"status": "sent", "event_type": APPROVED}) == 2 * MEMBERS

        eventually(all_sent, timeout=90, interval=0.5, message="every email and SMS sent")
        time.sleep(4)  # past a lease: anything still to go again would have gone
        assert notify_db.deliveries.count_documents({"event_type": APPROVED}) == 2 * MEMBERS
        assert notify_db.inbox_messages.count_documents({"category": "assistance"}) == MEMBERS

        # nothing lost, nothing twice, for each member, where it is kept
        assert len(mailbox.kept) == MEMBERS and len(gateway.kept) == MEMBERS
        for phone, email in people.values():
            assert len(mailbox.to(email)) == 1 and len(gateway.to(phone)) == 1
        # what went out again is exactly what the log calls interrupted, under the same key
        interrupted = {d["key"] for d in notify_db.deliveries.find({"tries.status": "interrupted"}, {"key": 1})}
        assert interrupted, "the kill happened between sending and recording"
        repeats = len(mailbox.received) - len(mailbox.kept) + len(gateway.received) - len(gateway.kept)
        assert 1 <= repeats <= min(len(interrupted), THREADS)  # at most one in flight per sending thread
    finally:
        stack.stop()
