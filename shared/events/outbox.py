"""Transactional outbox without multi-document transactions.

A Document that emits events embeds its pending events (``outbox``), written
by the very same single-document insert or update as the change itself: both
land or neither does. After the write, a pointer to the document is bumped in
the service's small ``outbox_pointers`` collection, so the relay finds pending
work without scanning the big collections (FerretDB on SQLite serves only
``_id`` lookups from an index). A crash between the write and the pointer
leaves the events in the document, where the relay's periodic sweep finds them.

The relay publishes a document's events in order and removes each one only
after the broker has acknowledged it, so a crash between the two re-sends
(consumers dedupe on ``ce_source`` + ``ce_id``) and never loses.
"""
from __future__ import annotations

import logging
import time
import uuid

from mongoengine import DictField, Document, EmbeddedDocument, EmbeddedDocumentField, ListField, StringField
from mongoengine.connection import get_db
from pymongo.errors import DuplicateKeyError

from .catalog import EventType
from .envelope import CloudEvent, isoformat, utcnow

log = logging.getLogger(__name__)

POINTERS = "outbox_pointers"


class PendingEvent(EmbeddedDocument):
    id = StringField(required=True)
    type = StringField(required=True)
    subject = StringField(required=True)
    time = StringField(required=True)
    dataschema = StringField()
    data = DictField(required=True)

    def to_cloudevent(self, source: str) -> CloudEvent:
        return CloudEvent(type=self.type, source=source, subject=self.subject, data=dict(self.data),
                          id=self.id, time=self.time, dataschema=self.dataschema)


class OutboxDocument(Document):
    """Base for every Document that publishes integration events."""

    outbox = ListField(EmbeddedDocumentField(PendingEvent))

    meta = {"abstract": True}

    def record(self, event_type: EventType, data: dict) -> PendingEvent:
        """Add an event to an unsaved document: the insert carries it."""
        pending = pending_event(event_type, str(self.pk), data)
        self.outbox.append(pending)
        return pending

    def save(self, *args, **kwargs):
        result = super().save(*args, **kwargs)
        if self.outbox:
            announce(type(self), self.pk)
        return result

    @classmethod
    def update_with_event(cls, pk, event_type: EventType, data: dict, conditions: dict | None = None,
                          **updates) -> bool:
        """Apply ``updates`` to one document and append the event in the same
        atomic write; ``conditions`` (mongoengine filters) guard the change."""
        return cls.update_with_events(pk, [(event_type, data)], conditions, **updates)

    @classmethod
    def update_with_events(cls, pk, events: list[tuple[EventType, dict]], conditions: dict | None = None,
                           **updates) -> bool:
        pending = [pending_event(event_type, str(pk), data) for event_type, data in events]
        changed = cls.objects(pk=pk, **(conditions or {})).update_one(push_all__outbox=pending, **updates)
        if changed:
            announce(cls, pk)
        return bool(changed)


def pending_event(event_type: EventType, subject: str, data: dict) -> PendingEvent:
    event_type.validate(data)
    return PendingEvent(id=uuid.uuid4().hex, type=event_type.name, subject=subject,
                        time=isoformat(utcnow()), dataschema=event_type.dataschema, data=data)


def _pointers(document: type[OutboxDocument]):
    return get_db(document._meta["db_alias"])[POINTERS]


def announce(document: type[OutboxDocument], pk) -> None:
    """Bump the document's pointer after its events were written."""
    collection = document._get_collection_name()
    pointer = {"_id": f"{collection}:{pk}"}
    update = {"$inc": {"seq": 1}, "$set": {"collection": collection, "doc_id": pk}}
    try:
        _pointers(document).update_one(pointer, update, upsert=True)
    except DuplicateKeyError:  # a concurrent first upsert created it
        _pointers(document).update_one(pointer, update)


def announce_new(document: type[OutboxDocument], pks: list) -> None:
    """Pointers for freshly inserted documents, in one round trip (bulk imports)."""
    collection = document._get_collection_name()
    if pks:
        _pointers(document).insert_many(
            [{"_id": f"{collection}:{pk}", "seq": 1, "collection": collection, "doc_id": pk} for pk in pks],
            ordered=False)


class OutboxRelay:
    """Publishes pending events of the given Document classes: to ``topic``, or
    to the topic ``routes`` names for an event type (e.g. contact details, which
    go to a topic of their own)."""

    def __init__(self, producer, source: str, topic: str, documents: list[type[OutboxDocument]],
                 batch_size: int = 200, send_timeout: float = 30.0, sweep_interval: float = 300.0,
                 routes: dict[str, str] | None = None):
        self.producer = producer
        self.source = source
        self.topic = topic
        self.routes = routes or {}
        self.documents = {d._get_collection_name(): d for d in documents}
        self._any = documents[0] if documents else None  # all share the service's database
        self.batch_size = batch_size
        self.send_timeout = send_timeout
        self.sweep_interval = sweep_interval
        self._last_sweep = None

    def run_once(self) -> int:
        """Publish what is pending now; returns how many events were published."""
        if not self.documents:
            return 0
        if self._last_sweep is None or time.monotonic() - self._last_sweep > self.sweep_interval:
            self.sweep()
        pointers = list(_pointers(self._any).find({}).limit(self.batch_size))
        work = []  # (pointer, document class, raw document)
        for pointer in pointers:
            document = self.documents.get(pointer.get("collection"))
            if document is None:
                continue
            raw = document._get_collection().find_one({"_id": pointer["doc_id"]}, {"outbox": 1})
            work.append((pointer, document, raw))
        return self._publish(work)

    def sweep(self) -> int:
        """Re-announce documents holding events without a pointer (a writer
        crashed between its write and the pointer). Scans; runs rarely."""
        found = 0
        for document in self.documents.values():
            for raw in document._get_collection().find({"outbox.0": {"$exists": True}}, {"_id": 1}):
                announce(document, raw["_id"])
                found += 1
        self._last_sweep = time.monotonic()
        if found:
            log.info("outbox sweep re-announced documents", extra={"count": found})
        return found

    def _publish(self, work) -> int:
        published = 0
        queues, done = {}, []
        for pointer, document, raw in work:
            events = list((raw or {}).get("outbox") or [])
            if events:
                queues[pointer["_id"]] = (pointer, document, events)
            else:
                done.append(pointer)
        # Round k sends the k-th pending event of every document whose earlier
        # events all succeeded: per-key order holds and documents go in parallel.
        while queues:
            futures = {}
            for key, (pointer, document, events) in queues.items():
                event = PendingEvent._from_son(events[0]).to_cloudevent(self.source)
                k, headers, value = event.to_record()
                topic = self.routes.get(event.type, self.topic)
                futures[key] = self.producer.send(topic, key=k, value=value, headers=headers)
            self.producer.flush(timeout=self.send_timeout)
            next_queues = {}
            for key, future in futures.items():
                pointer, document, events = queues[key]
                try:
                    future.get(timeout=self.send_timeout)
                except Exception as exc:
                    log.warning("outbox publish failed", extra={"doc": key, "error": str(exc)})
                    continue
                self._remove(document, pointer["doc_id"], events[0])
                published += 1
                if len(events) > 1:
                    next_queues[key] = (pointer, document, events[1:])
                else:
                    done.append(pointer)
            queues = next_queues
        for pointer in done:
            # Only if no writer bumped it since we read it: their events come next round.
            _pointers(self._any).delete_one({"_id": pointer["_id"], "seq": pointer["seq"]})
        return published

    @staticmethod
    def _remove(document: type[OutboxDocument], doc_id, event: dict) -> None:
        """Pull exactly the event that was acknowledged (idempotent: a second
        relay pulling the same event changes nothing)."""
        document._get_collection().update_one({"_id": doc_id}, {"$pull": {"outbox": event}})
