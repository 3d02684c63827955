"""Workers in-process against the real broker: the welcome flow, the read
models of events and welfare, dedupe on replay, and the dead-letter topic."""
from __future__ import annotations

import pytest

from shared.events import kafka_clients
from shared.events.consumer import EventConsumer, dlq_topic, processed_document
from shared.events.envelope import CloudEvent
from tests.helpers import eventually, member_body, read_topic

pytestmark = pytest.mark.integration


def _drain(*workers, until, timeout=20.0):
    def turn():
        for worker in workers:
            worker.turn()
        return until()
    return eventually(turn, timeout=timeout, interval=0)


def test_a_registered_member_finds_a_welcome_in_the_inbox(members, notify, tree, bearer, workers):
    member = members.post("/api/v1/members", json=member_body(tree["a"], 1), headers=bearer("admin", tree["a"])).json
    relay, notifier = workers("members"), workers("notify")
    events_worker, welfare_worker = workers("events"), workers("welfare")
    admin = bearer("admin", tree["a"])

    def inbox():
        response = notify.get(f"/api/v1/inbox?member_id={member['id']}", headers=admin)
        return response.json["items"] if response.status_code == 200 else None

    items = _drain(relay, notifier, until=inbox)
    assert len(items) == 1 and items[0]["title"] == "欢迎加入工会" and member["card_no"] in items[0]["body"]

    from services.notify.documents import Contact
    from shared.pii import Vault

    contact = _drain(relay, notifier, until=lambda: Contact.objects(pk=member["id"]).first())
    assert Vault(notifier.settings.pii_key).decrypt(contact.phone_encrypted) == member_body(tree["a"], 1)["phone"]
    assert "139" not in str(contact.to_mongo())  # stored encrypted

    from services.events.documents import MemberView as EventsView
    from services.welfare.documents import MemberView as WelfareView

    _drain(events_worker, welfare_worker, until=lambda: EventsView.objects(pk=member["id"]).first()
           and WelfareView.objects(pk=member["id"]).first())
    view = EventsView.objects(pk=member["id"]).first()
    assert (view.status, view.gender, view.employment_type, view.org_path) == (
        "active", member["gender"], "migrant", member["org_path"])

    # scope of the inbox: another branch's admin and another member see nothing
    assert notify.get(f"/api/v1/inbox?member_id={member['id']}", headers=bearer("admin", tree["b"])).status_code == 404
    other = bearer("member", tree["a"], sub="someone-else")
    assert notify.get(f"/api/v1/inbox?member_id={member['id']}", headers=other).status_code == 404
    own = bearer("member", tree["a"], sub=member["id"])
    listed = notify.get(f"/api/v1/inbox?member_id={member['id']}", headers=own)
    assert listed.status_code == 200
    read = notify.post(f"/api/v1/inbox/{items[0]['id']}/read", headers=own)
    assert read.status_code == 200 and read.json["read_at"]
    assert notify.get(f"/api/v1/inbox?member_id={member['id']}&unread=true", headers=own).json["items"] == []
    # notify publishes what it delivered
    notifier.turn()
    delivered = read_topic(notifier.settings.kafka_bootstrap, notifier.settings.topic("gonghui.notify.v1"), 1)
    assert CloudEvent.from_record(delivered[0].headers, delivered[0].value).data["member_id"] == member["id"]


def _consumer(settings, topic, handlers, max_attempts=2):
    client = kafka_clients.consumer(settings, [topic])
    processed = processed_document(settings.service)
    return EventConsumer(client, kafka_clients.producer(settings), settings.group_id, handlers, processed,
                         max_attempts=max_attempts, retry_backoff=0.01)


def _poll_until(consumer, done, timeout=20.0):
    def step():
        consumer.poll_once()
        return done()
    return eventually(step, timeout=timeout, interval=0)


def _publish(settings, topic, events, raw=()):
    producer = kafka_clients.producer(settings)
    for event in events:
        key, headers, value = event.to_record()
        producer.send(topic, key=key, headers=headers, value=value)
    for key, headers, value in raw:
        producer.send(topic, key=key, headers=headers, value=value)
    producer.flush()
    producer.close()


def test_a_replayed_event_has_no_second_effect(settings_for):
    settings = settings_for("notify")
    from shared import db

    db.connect(settings)
    topic = settings.topic("dedupe.v1")
    kafka_clients.ensure_topics(settings, [topic], partitions=1)
    seen = []
    event = CloudEvent(type="t.happened", source="/test", subject="k", data={"n": 1})
    _publish(settings, topic, [event, event, CloudEvent(type="t.happened", source="/test", subject="k", data={"n": 2})])
    consumer = _consumer(settings, topic, {"t.happened": lambda e: seen.append(e.data["n"])})
    _poll_until(consumer, lambda: len(seen) >= 2)
    consumer.consumer.close()
    # a new consumer in the same group, reset to the beginning, replays everything
    again = _consumer(settings, topic, {"t.happened": lambda e: seen.append(e.data["n"])})
    _poll_until(again, lambda: again.consumer.assignment())
    again.consumer.seek_to_beginning()
    skipped = []
    eventually(lambda: skipped.append(again.poll_once().skipped) or sum(skipped) >= 3, timeout=20, interval=0)
    again.consumer.close()
    assert seen == [1, 2]  # all three records came again; none had a second effect


def test_a_poll_of_event_types_that_are_not_ours_asks_the_database_nothing(settings_for):
    settings = settings_for("events")
    from shared import db

    db.connect(settings)
    topic = settings.topic("others.v1")
    kafka_clients.ensure_topics(settings, [topic], partitions=1)
    real = processed_document(settings.service)
    asked = []

    class Processed:  # the real processed-id collection, with its uses counted
        @staticmethod
        def _get_collection():
            asked.append(True)
            return real._get_collection()

    consumer = EventConsumer(kafka_clients.consumer(settings, [topic]), kafka_clients.producer(settings),
                             settings.group_id, {"t.ours": lambda e: None}, Processed)
    _publish(settings, topic, [CloudEvent(type="t.theirs", source="/test", subject="k", data={"n": n})
                               for n in range(3)])
    skipped = []
    eventually(lambda: skipped.append(consumer.poll_once().skipped) or sum(skipped) >= 3, timeout=20, interval=0)
    assert asked == []
    _publish(settings, topic, [CloudEvent(type="t.ours", source="/test", subject="k", data={})])
    _poll_until(consumer, lambda: asked)  # an event of ours is looked up and remembered
    consumer.consumer.close()


def test_failing_and_unreadable_records_go_to_the_dead_letter_topic(settings_for):
    settings = settings_for("welfare")
    from shared import db

    db.connect(settings)
    topic = settings.topic("dlq-test.v1")
    dlq = dlq_topic(topic, settings.group_id)
    kafka_clients.ensure_topics(settings, [topic, dlq], partitions=1)
    handled = []

    def handler(event):
        if event.data.get("poison"):
            raise ValueError("cannot handle this one")
        handled.append(event.data["n"])

    _publish(settings, topic,
             [CloudEvent(type="t.x", source="/t", subject="a", data={"n": 1}),
              CloudEvent(type="t.x", source="/t", subject="a", data={"poison": True}),
              CloudEvent(type="t.x", source="/t", subject="a", data={"n": 3})],
             raw=[(b"a", [("ce_specversion", b"1.0")], b"not json")])
    consumer = _consumer(settings, topic, {"t.x": handler})
    _poll_until(consumer, lambda: len(handled) == 2)
    for _ in range(3):
        consumer.poll_once()
    consumer.consumer.close()
    assert handled == [1, 3]  # the partition was not blocked by the poison record
    dead = read_topic(settings.kafka_bootstrap, dlq, 2)
    errors = sorted(dict(r.headers)["dlq_error"].decode() for r in dead)
    assert "ValueError: cannot handle this one" in errors[0]
    assert errors[1].startswith("unreadable envelope")


def test_read_models_follow_status_changes_and_moves(members, notify, tree, bearer, workers):
    from services.events.documents import MemberView as EventsView
    from services.members.tree import follow_moves
    from services.notify.documents import Recipient

    op = bearer("operator")
    member = members.post("/api/v1/members", json=member_body(tree["a"], 30), headers=op).json
    members.post(f"/api/v1/members/{member['id']}/status", json={"action": "suspend"}, headers=op)
    health = members.post("/api/v1/orgs", json={"name": "市卫生工会", "kind": "industry", "parent_id": tree["fed"]},
                          headers=op).json["id"]
    assert members.post(f"/api/v1/orgs/{tree['a']}/move", json={"parent_id": health}, headers=op).status_code == 202
    follow_moves()  # the members worker's periodic job
    relay, events_worker, notifier = workers("members"), workers("events"), workers("notify")
    moved_path = [tree["fed"], health, tree["a"]]

    def caught_up():
        view = EventsView.objects(pk=member["id"]).first()
        recipient = Recipient.objects(pk=member["id"]).first()
        return (view and view.status == "suspended" and view.org_path == moved_path and view.version == 3
                and recipient and recipient.org_path == moved_path)

    _drain(relay, events_worker, notifier, until=caught_up, timeout=60)
    # the inbox (the welcome, then the suspension) follows the move: the new industry union sees it, the old
    # one no longer does
    url = f"/api/v1/inbox?member_id={member['id']}"
    assert len(notify.get(url, headers=bearer("admin", health)).json["items"]) == 2
    assert notify.get(url, headers=bearer("admin", tree["industry"])).status_code == 404


def test_notify_routes_hide_other_members_and_are_documented(members, notify, tree, bearer, workers):
    member = members.post("/api/v1/members", json=member_body(tree["a"], 50), headers=bearer("admin", tree["a"])).json
    relay, notifier = workers("members"), workers("notify")
    admin = bearer("admin", tree["a"])
    items = _drain(relay, notifier, until=lambda: notify.get(f"/api/v1/inbox?member_id={member['id']}",
                                                              headers=admin).json.get("items"))
    message_id = items[0]["id"]
    for who in (bearer("member", tree["a"], sub="another-member"), bearer("admin", tree["a"])):
        response = notify.post(f"/api/v1/inbox/{message_id}/read", headers=who)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert notify.get("/api/v1/inbox?member_id=nobody", headers=admin).status_code == 404
    spec = notify.get("/api/v1/openapi.json").json
    assert {"/api/v1/inbox", "/api/v1/inbox/{message_id}/read"} <= set(spec["paths"])


def test_read_models_keep_the_newest_version_whatever_the_order(settings_for):
    from services.events.documents import MemberView
    from shared import db
    from shared.events.projection import upsert_if_newer

    db.connect(settings_for("events"))
    assert upsert_if_newer(MemberView, "m1", 2, {"status": "suspended"})
    assert not upsert_if_newer(MemberView, "m1", 1, {"status": "active"})  # older, arriving late
    assert not upsert_if_newer(MemberView, "m1", 2, {"status": "active"})  # the same version again
    assert upsert_if_newer(MemberView, "m1", 3, {"status": "left"})
    view = MemberView.objects(pk="m1").first()
    assert (view.status, view.version) == ("left", 3) and MemberView.objects.count() == 1, \
        [d.to_mongo() for d in MemberView.objects]


def test_a_batch_that_fails_is_handled_event_by_event_and_only_the_poison_is_dead_lettered(settings_for):
    from shared import db
    from shared.events.consumer import Batched

    settings = settings_for("events")
    db.connect(settings)
    topic = settings.topic("batch-test.v1")
    dlq = dlq_topic(topic, settings.group_id)
    kafka_clients.ensure_topics(settings, [topic, dlq], partitions=1)
    batches, singles = [], []

    def many(events):
        if any(e.data.get("poison") for e in events):
            raise ValueError("one bad apple")
        batches.append([e.data["n"] for e in events])

    def one(event):
        if event.data.get("poison"):
            raise ValueError("cannot handle this one")
        singles.append(event.data["n"])

    repeated = CloudEvent(type="t.b", source="/t", subject="a", data={"n": 0})
    _publish(settings, topic, [repeated, repeated] + [CloudEvent(type="t.b", source="/t", subject="a", data={"n": n})
                                                      for n in (1, 2)])
    consumer = _consumer(settings, topic, {"t.b": Batched(one=one, many=many)})
    _poll_until(consumer, lambda: sum(map(len, batches)) >= 3)
    assert sorted(n for batch in batches for n in batch) == [0, 1, 2]  # the repeat was dropped in the poll
    _publish(settings, topic, [CloudEvent(type="t.b", source="/t", subject="a", data={"n": 3}),
                               CloudEvent(type="t.b", source="/t", subject="a", data={"poison": True}),
                               CloudEvent(type="t.b", source="/t", subject="a", data={"n": 4})])
    _poll_until(consumer, lambda: len(singles) >= 2)
    consumer.consumer.close()
    assert singles == [3, 4]
    dead = read_topic(settings.kafka_bootstrap, dlq, 1)
    assert "ValueError: cannot handle this one" in dict(dead[0].headers)["dlq_error"].decode()


def test_processed_ids_are_forgotten_after_the_retention_window(settings_for):
    from datetime import timedelta

    from shared import db
    from shared.events.consumer import forget_processed
    from shared.events.envelope import utcnow

    settings = settings_for("welfare")
    db.connect(settings)
    processed = processed_document(settings.service)
    processed.ensure_indexes()
    processed(pk="old", handled_at=utcnow() - timedelta(days=15)).save(force_insert=True)
    processed(pk="recent", handled_at=utcnow() - timedelta(days=13)).save(force_insert=True)
    assert forget_processed(processed, timedelta(days=14)) == 1
    assert [p.pk for p in processed.objects] == ["recent"]


def test_batched_read_model_upserts_keep_the_newest_version(settings_for):
    from services.events.documents import MemberView
    from shared import db
    from shared.events.projection import upsert_many_if_newer

    db.connect(settings_for("events"))
    MemberView._get_collection().insert_many([{"_id": "old", "status": "active", "version": 5},
                                              {"_id": "stale", "status": "active", "version": 1}])
    upsert_many_if_newer(MemberView, [("new", 2, {"status": "suspended"}), ("new", 1, {"status": "active"}),
                                      ("old", 4, {"status": "left"}), ("stale", 3, {"status": "left"}),
                                      ("stale", 2, {"status": "suspended"})])
    views = {v.pk: (v.status, v.version) for v in MemberView.objects}
    assert views == {"new": ("suspended", 2), "old": ("active", 5), "stale": ("left", 3)}


def test_a_poll_that_fails_is_read_again_even_while_the_broker_is_away(settings_for):
    """The rewind after a failed poll is a local seek: it needs no broker (whose outage may be the failure)."""
    from shared import db

    settings = settings_for("events")
    db.connect(settings)
    topic = settings.topic("rewind-test.v1")
    kafka_clients.ensure_topics(settings, [topic], partitions=1)
    _publish(settings, topic, [CloudEvent(type="t.r", source="/t", subject="a", data={"poison": True}),
                               CloudEvent(type="t.r", source="/t", subject="a", data={"n": 2})])

    class BrokerAway:
        def send(self, *args, **kwargs):
            raise ConnectionError("broker unreachable")

    def handler(event):
        if event.data.get("poison"):
            raise ValueError("bad")

    class CoordinatorAway:
        """The real consumer, except that asking the broker for committed offsets fails."""

        def __init__(self, real):
            self.real = real

        def committed(self, *args, **kwargs):
            raise ConnectionError("coordinator unreachable")

        def __getattr__(self, name):
            return getattr(self.real, name)

    client = kafka_clients.consumer(settings, [topic])
    consumer = EventConsumer(CoordinatorAway(client), BrokerAway(), settings.group_id, {"t.r": handler},
                             processed_document(settings.service), max_attempts=1, retry_backoff=0)
    raised = []

    def poll():
        try:
            consumer.poll_once()
        except ConnectionError:
            raised.append(True)
        return raised

    eventually(poll, timeout=20, interval=0)
    from kafka import TopicPartition

    assert client.position(TopicPartition(topic, 0)) == 0  # back at the first record of the failed poll
    client.close()


def test_notify_delivers_a_batch_of_welcomes_in_bulk_and_a_replay_adds_nothing(settings_for):
    """The batched path itself (a failure there would be hidden by the one-by-one fallback)."""
    from services.notify.consumed import on_member_joined
    from services.notify.documents import InboxMessage, Recipient
    from shared import db
    from shared.events.outbox import pending_events

    db.connect(settings_for("notify"))
    events = [CloudEvent(type="gonghui.members.member.joined", source="/gonghui/members", subject=f"m{n}",
                         data={"member_id": f"m{n}", "name": f"职工{n}", "org_name": "甲工会", "org_path": ["f", "a"],
                               "card_no": f"GH2026{n:08d}", "status": "active", "version": 1}) for n in range(3)]
    on_member_joined.many(events)
    on_member_joined.many(events)  # a replay
    messages = list(InboxMessage.objects)
    assert sorted(m.member_id for m in messages) == ["m0", "m1", "m2"]
    assert all(m.outbox == [] for m in messages)  # born with their events in their pointers
    assert [e.type for e in pending_events(InboxMessage, messages[0].pk)] == ["gonghui.notify.message.delivered"]
    assert Recipient.objects.count() == 3


def test_a_delivered_message_document_has_exactly_the_shape_the_model_writes(settings_for):
    """notify writes raw message documents for speed; they must be what InboxMessage.to_mongo() writes."""
    from services.notify import domain
    from services.notify.consumed import _inbox_document
    from services.notify.documents import InboxMessage

    raw = _inbox_document("m1", ["f", "a"], domain.welcome("m1", "王芳", "甲工会", "GH202600000001"))
    message = InboxMessage._from_son(raw)
    message.validate()
    assert message.to_mongo().to_dict() == raw
    assert [e.type for e in message.outbox] == ["gonghui.notify.message.delivered"]
