"""The outbox: writes succeed with Kafka down, events go out later in order,
a relay that dies between publishing and removing duplicates but never loses."""
from __future__ import annotations

import pytest

from services.members.documents import Member, Organisation
from services.members.published import CONTACT_CHANGED, CONTACTS_TOPIC, SOURCE, TOPIC
from shared.events import kafka_clients
from shared.events.envelope import CloudEvent
from shared.events.outbox import OutboxRelay
from shared.events.outbox import _pointers as pointers
from tests.helpers import grassroots, member_body, read_topic

pytestmark = pytest.mark.integration


@pytest.fixture
def down_members(settings_for):
    """The members app configured with a broker that is not there."""
    from services.members import create_app

    return create_app(settings_for("members", kafka_bootstrap="127.0.0.1:9")).test_client()


def _orgs(client, bearer):
    op = bearer("operator")
    fed = client.post("/api/v1/orgs", json={"name": "总工会", "kind": "federation"}, headers=op).json["id"]
    branch = client.post("/api/v1/orgs", json=grassroots("工会", fed), headers=op).json["id"]
    return fed, branch


def test_writes_succeed_with_the_broker_down_and_events_follow_in_order(down_members, settings_for, bearer):
    fed, branch = _orgs(down_members, bearer)
    ids = [down_members.post("/api/v1/members", json=member_body(branch, n), headers=bearer("admin", fed)).json["id"]
           for n in range(5)]
    # a new member's events wait in its pointer (the document is written without them)
    assert pointers(Member).count_documents({"collection": "members", "payload": {"$exists": True}}) == 5
    assert not any(m.outbox for m in Member.objects)
    # Each org carries its own created event, each member its joined event.
    settings = settings_for("members")
    contacts = settings.topic(CONTACTS_TOPIC)
    kafka_clients.ensure_topics(settings, [settings.topic(TOPIC), contacts])
    producer = kafka_clients.producer(settings)
    try:
        relay = OutboxRelay(producer, SOURCE, settings.topic(TOPIC), [Organisation, Member],
                            routes={CONTACT_CHANGED.name: contacts})
        assert relay.run_once() == 12  # 2 organisations; 5 members each joined + contact details
        assert relay.run_once() == 0
    finally:
        producer.close()
    assert all(not m.outbox for m in Member.objects)
    assert pointers(Member).count_documents({}) == 0
    records = read_topic(settings.kafka_bootstrap, settings.topic(TOPIC), 7)
    assert len(records) == 7  # contact details went elsewhere
    events = [CloudEvent.from_record(r.headers, r.value) for r in records]
    joined = [e for e in events if e.type == "gonghui.members.member.joined"]
    assert sorted(e.subject for e in joined) == sorted(ids)
    assert all(r.key.decode() == CloudEvent.from_record(r.headers, r.value).subject for r in records)
    for event in joined:
        assert "id_number" not in event.data and "phone" not in event.data
        assert event.source == SOURCE and event.dataschema.endswith(":1")
    contact_records = read_topic(settings.kafka_bootstrap, contacts, 5)
    assert sorted(CloudEvent.from_record(r.headers, r.value).data["member_id"] for r in contact_records) == sorted(ids)
    assert all(b"phone" not in r.value for r in records)  # phones only ever travel on the contacts topic


def test_events_of_one_document_keep_their_order(settings_for, members_app):
    from bson import ObjectId

    from services.members.published import ORGANISATION_CREATED

    org = Organisation(id=ObjectId(), name="v0", kind="federation", path=[])
    org.path = [str(org.pk)]
    data = {"org_id": str(org.pk), "name": "v0", "kind": "federation", "parent_id": None, "path": org.path,
            "status": "active", "credit_code": None, "headcount": None, "version": 1}
    org.record(ORGANISATION_CREATED, data)
    org.save(force_insert=True)
    for version in range(2, 6):
        assert Organisation.update_with_event(org.pk, ORGANISATION_CREATED, {**data, "version": version},
                                              conditions={"version": version - 1}, set__version=version)
    assert not Organisation.update_with_event(org.pk, ORGANISATION_CREATED, data, conditions={"version": 1},
                                              set__version=9)  # a stale writer changes nothing
    settings = settings_for("members")
    kafka_clients.ensure_topics(settings, [settings.topic(TOPIC)])
    producer = kafka_clients.producer(settings)
    try:
        OutboxRelay(producer, SOURCE, settings.topic(TOPIC), [Organisation]).run_once()
    finally:
        producer.close()
    records = read_topic(settings.kafka_bootstrap, settings.topic(TOPIC), 5)
    assert [CloudEvent.from_record(r.headers, r.value).data["version"] for r in records] == [1, 2, 3, 4, 5]


class _DiesAfterPublishing(OutboxRelay):
    """A relay killed after the broker acknowledged but before removing."""

    def _remove(self, pending, acked):
        raise SystemExit("killed")


def test_a_relay_dying_between_publish_and_remove_duplicates_but_never_loses(members, tree_orgs_only, settings_for):
    settings = settings_for("members")
    kafka_clients.ensure_topics(settings, [settings.topic(TOPIC)])
    producer = kafka_clients.producer(settings)
    try:
        with pytest.raises(SystemExit):
            _DiesAfterPublishing(producer, SOURCE, settings.topic(TOPIC), [Organisation]).run_once()
        assert pointers(Organisation).count_documents({"payload": {"$exists": True}}) == 1  # still pending
        assert OutboxRelay(producer, SOURCE, settings.topic(TOPIC), [Organisation]).run_once() == 1
    finally:
        producer.close()
    records = read_topic(settings.kafka_bootstrap, settings.topic(TOPIC), 2)
    ids = [CloudEvent.from_record(r.headers, r.value).id for r in records]
    assert len(ids) == 2 and len(set(ids)) == 1  # the same event twice: consumers drop it by ce_id


@pytest.fixture
def tree_orgs_only(members, bearer):
    return members.post("/api/v1/orgs", json={"name": "总工会", "kind": "federation"},
                        headers=bearer("operator")).json["id"]


def _relay(settings, **options):
    kafka_clients.ensure_topics(settings, [settings.topic(TOPIC)])
    producer = kafka_clients.producer(settings)
    return producer, OutboxRelay(producer, SOURCE, settings.topic(TOPIC), [Organisation], **options)


def test_a_writer_dying_between_its_pointer_and_its_write_loses_nothing(members, tree_orgs_only, settings_for):
    """The pointer goes first: a pointer to a write that never landed is dropped after the grace
    period; events always have a pointer."""
    from bson import ObjectId

    from shared.events.outbox import announce

    settings = settings_for("members")
    announce(Organisation, ObjectId(), ["never-written"])  # the writer died right after this
    producer, relay = _relay(settings, grace=0.5)
    try:
        assert relay.run_once() == 1  # the organisation's created event
        assert pointers(Organisation).count_documents({}) == 1  # the orphan waits out the grace period
        import time

        time.sleep(0.6)
        pointers(Organisation).update_many({}, {"$set": {"due": pointers(Organisation).find_one()["at"]}})
        assert relay.run_once() == 0
        assert pointers(Organisation).count_documents({}) == 0
    finally:
        producer.close()


def test_a_conditional_write_that_changes_nothing_leaves_no_pointer(members, tree_orgs_only):
    from services.members.published import ORGANISATION_CREATED

    org = Organisation.objects.first()
    data = {"org_id": str(org.pk), "name": "x", "kind": "federation", "parent_id": None, "path": org.path,
            "status": "active", "credit_code": None, "headcount": None, "version": 9}
    before = pointers(Organisation).count_documents({})
    assert not Organisation.update_with_event(org.pk, ORGANISATION_CREATED, data, conditions={"version": 99},
                                              set__version=100)
    assert pointers(Organisation).count_documents({}) == before


def test_only_the_relay_holding_the_lease_publishes(members, tree_orgs_only, settings_for):
    settings = settings_for("members")
    producer, first = _relay(settings, lease=True)
    second = OutboxRelay(producer, SOURCE, settings.topic(TOPIC), [Organisation], lease=True)
    try:
        assert second.run_once() == 1 and second.lease.hold()
        for n in range(3):
            members.post("/api/v1/orgs", json={"name": f"总工会{n}", "kind": "federation"},
                         headers=_operator(settings))
        assert first.run_once() == 0  # standing by
        second.lease.collection.update_one({"_id": "relay"}, {"$set": {"until": second.lease._held_until.replace(
            year=2000)}})  # the holder died: its lease runs out
        assert first.run_once() == 3
        second.lease._held_until = None  # its next renewal (the lease only saves work: a duplicate is dropped)
        assert not second.lease.hold()
    finally:
        producer.close()


def _operator(settings):
    from datetime import timedelta

    from shared import auth

    return {"Authorization": "Bearer " + auth.mint(settings.jwt_secret, "op", ["operator"], ttl=timedelta(hours=1))}


def test_an_event_the_producer_refuses_holds_back_only_its_document(members, tree_orgs_only, settings_for):
    """A record the producer refuses before sending (too large here) must not stall the relay: its
    pointer backs off and the other documents' events go out."""
    from kafka import KafkaProducer

    settings = settings_for("members")
    kafka_clients.ensure_topics(settings, [settings.topic(TOPIC)])
    members.post("/api/v1/orgs", json={"name": "工" * 20, "kind": "federation"}, headers=_operator(settings))
    tiny = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, max_request_size=400)  # smaller than an event
    try:
        relay = OutboxRelay(tiny, SOURCE, settings.topic(TOPIC), [Organisation])
        assert relay.run_once() == 0
        from shared.events.envelope import utcnow

        assert pointers(Organisation).count_documents({"due": {"$lte": utcnow()}}) == 0  # backed off, not stuck
    finally:
        tiny.close()
    # still pending, nothing lost: each new organisation's event waits in its pointer
    assert pointers(Organisation).count_documents({"payload": {"$exists": True}}) == Organisation.objects.count()


def test_a_new_document_s_events_go_out_before_its_later_ones_even_when_its_pointer_waits(settings_for, members_app):
    """A new document's events travel in its pointer; if that pointer is backed off (its write was
    not visible yet) while a later change's pointer is due, the birth still goes out first."""
    from datetime import timedelta

    from bson import ObjectId

    from services.members.published import ORGANISATION_CREATED
    from shared.events.envelope import utcnow

    org = Organisation(id=ObjectId(), name="v1", kind="federation", path=[])
    org.path = [str(org.pk)]
    data = {"org_id": str(org.pk), "name": "v1", "kind": "federation", "parent_id": None, "path": org.path,
            "status": "active", "credit_code": None, "headcount": None, "version": 1}
    org.record(ORGANISATION_CREATED, data)
    org.save(force_insert=True)
    assert Organisation.objects(pk=org.pk).first().outbox == []  # born without them: they wait in the pointer
    pointers(Organisation).update_many({"payload": {"$exists": True}},
                                       {"$set": {"due": utcnow() + timedelta(minutes=5)}})  # backed off
    assert Organisation.update_with_event(org.pk, ORGANISATION_CREATED, {**data, "version": 2},
                                          conditions={"version": 1}, set__version=2)
    settings = settings_for("members")
    producer, relay = _relay(settings)
    try:
        assert relay.run_once() == 2
        assert relay.run_once() == 0
    finally:
        producer.close()
    records = read_topic(settings.kafka_bootstrap, settings.topic(TOPIC), 2)
    assert [CloudEvent.from_record(r.headers, r.value).data["version"] for r in records] == [1, 2]
    assert pointers(Organisation).count_documents({}) == 0 and Organisation.objects(pk=org.pk).first().outbox == []


def test_held_pointers_wait_for_their_release_or_for_their_hold_to_run_out(settings_for, members_app):
    """A bulk job holds its events back while it runs (``Hold``); the relay sends them once released,
    or, should nothing release them, once the hold has run out."""
    from datetime import timedelta

    from bson import ObjectId

    from services.members.published import ORGANISATION_CREATED
    from shared.events.outbox import Hold, _releases, announce_many, pending_event_son, release

    def insert(names, hold):
        docs = []
        for name in names:
            pk = ObjectId()
            data = {"org_id": str(pk), "name": name, "kind": "federation", "parent_id": None, "path": [str(pk)],
                    "status": "active", "credit_code": None, "headcount": None, "version": 1}
            docs.append({"_id": pk, "name": name, "kind": "federation", "path": [str(pk)], "status": "active",
                         "version": 1, "outbox": [pending_event_son(ORGANISATION_CREATED, str(pk), data)]})
        announce_many(Organisation, docs, hold)
        Organisation._get_collection().insert_many(docs)

    insert(["甲", "乙"], Hold("job:1", timedelta(minutes=15)))
    insert(["丙"], Hold("job:2", timedelta(0)))  # its writer died long ago: the hold has run out
    settings = settings_for("members")
    producer, relay = _relay(settings)
    relay.RELEASES_EVERY = 0.0  # look for released holds every round
    try:
        assert relay.run_once() == 1  # 丙 only
        assert relay.run_once() == 0
        assert pointers(Organisation).count_documents({"held_by": "job:1"}) == 2
        release(Organisation, "job:1")
        release(Organisation, "job:1")
        assert relay.run_once() == 2
        assert relay.run_once() == 0
        assert _releases(Organisation).count_documents({}) == 0  # forgotten once its pointers are gone
    finally:
        producer.close()
    records = read_topic(settings.kafka_bootstrap, settings.topic(TOPIC), 3)
    assert sorted(CloudEvent.from_record(r.headers, r.value).data["name"] for r in records) == sorted("甲乙丙")
    assert pointers(Organisation).count_documents({}) == 0
