"""Transactional outbox without multi-document transactions.

A Document that emits events embeds its pending events (``outbox``), written
by the very same single-document insert or update as the change itself: both
land or neither does. Just before that write, a pointer naming the document
and the events is inserted into the service's small ``outbox_pointers``
collection, so the relay finds pending work by an indexed query instead of
scanning the big collections. A writer that dies between its pointer and its
write leaves a pointer to nothing, which the relay drops after a grace period;
it never leaves events without a pointer.

The relay publishes every pending event of the documents it is pointed at, in
order, waits for the broker's acknowledgements once for the whole batch, then
removes exactly the acknowledged events, one write per document. A relay that
dies between publishing and removing re-sends (consumers dedupe on
``ce_source`` + ``ce_id``) and never loses. With several workers of a service
running, one holds the relay's lease and the others stand by.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import deque
from datetime import timedelta, timezone

from bson import ObjectId
from mongoengine import DictField, Document, EmbeddedDocument, EmbeddedDocumentField, ListField, StringField
from mongoengine.connection import get_db
from pymongo import ASCENDING, UpdateOne
from pymongo.errors import DuplicateKeyError

from .catalog import EventType
from .envelope import CloudEvent, isoformat, utcnow

log = logging.getLogger(__name__)

POINTERS = "outbox_pointers"
LEASES = "outbox_leases"

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
        if self.pk is None:
            self.pk = ObjectId()  # the pointer names the document before it is written
        pending = pending_event(event_type, str(self.pk), data)
        self.outbox.append(pending)
        self._unannounced = [*getattr(self, "_unannounced", []), pending.id]
        return pending

    def save(self, *args, **kwargs):
        unannounced = getattr(self, "_unannounced", None)
        if unannounced:
            announce(type(self), self.pk, unannounced)
            self._unannounced = []
        return super().save(*args, **kwargs)

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
        pointer = announce(cls, pk, [p.id for p in pending])
        changed = cls.objects(pk=pk, **(conditions or {})).update_one(push_all__outbox=pending, **updates)
        if not changed:
            _pointers(cls).delete_one({"_id": pointer})  # nothing was written: nothing to relay
        return bool(changed)


def pending_event(event_type: EventType, subject: str, data: dict) -> PendingEvent:
    return PendingEvent(**pending_event_son(event_type, subject, data))


def pending_event_son(event_type: EventType, subject: str, data: dict) -> dict:
    """A pending event as stored, for bulk paths that write raw documents (validated all the same)."""
    event_type.validate(data)
    return {"id": uuid.uuid4().hex, "type": event_type.name, "subject": subject, "time": isoformat(utcnow()),
            "dataschema": event_type.dataschema, "data": data}


def _pointers(document: type[OutboxDocument]):
    return get_db(document._meta["db_alias"])[POINTERS]


def _pointer(document: type[OutboxDocument], pk, event_ids: list[str]) -> dict:
    now = utcnow()
    return {"_id": ObjectId(), "collection": document._get_collection_name(), "doc_id": pk, "events": event_ids,
            "at": now, "due": now, "tries": 0}


def announce(document: type[OutboxDocument], pk, event_ids: list[str]) -> ObjectId:
    """Insert the pointer for events about to be written to one document (call before the write)."""
    pointer = _pointer(document, pk, event_ids)
    _pointers(document).insert_one(pointer)
    return pointer["_id"]


def announce_many(document: type[OutboxDocument], documents: list) -> dict:
    """Pointers for a batch of documents about to be inserted (bulk imports), in one round trip;
    ``documents`` are Documents or raw dicts. Returns each document's pointer id, for ``withdraw``
    if its insert fails."""
    def ids(doc):
        return [e["id"] for e in doc["outbox"]] if isinstance(doc, dict) else [e.id for e in doc.outbox]

    def pk(doc):
        return doc["_id"] if isinstance(doc, dict) else doc.pk

    pointers = {pk(doc): _pointer(document, pk(doc), ids(doc)) for doc in documents if ids(doc)}
    if pointers:
        _pointers(document).insert_many(list(pointers.values()), ordered=False)
    return {pk: pointer["_id"] for pk, pointer in pointers.items()}


def withdraw(document: type[OutboxDocument], pointer_ids: list) -> None:
    """Remove pointers whose write did not happen (e.g. a duplicate refused by a unique index)."""
    if pointer_ids:
        _pointers(document).delete_many({"_id": {"$in": pointer_ids}})


def ensure_outbox_indexes(document: type[OutboxDocument]) -> None:
    _pointers(document).create_index([("due", ASCENDING)])


class RelayLease:
    """At most one relay per service publishes at a time: the holder renews a
    lease document; another worker takes over once it has run out."""

    def __init__(self, document: type[OutboxDocument], ttl: float = 10.0):
        self.collection = get_db(document._meta["db_alias"])[LEASES]
        self.ttl = timedelta(seconds=ttl)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._held_until = None

    def hold(self) -> bool:
        now = utcnow()
        if self._held_until is not None and now < self._held_until - self.ttl / 2:
            return True
        until = now + self.ttl
        try:
            result = self.collection.update_one(
                {"_id": "relay", "$or": [{"holder": self.holder}, {"until": {"$lt": now}}]},
                {"$set": {"holder": self.holder, "until": until}}, upsert=True)
            held = result.matched_count > 0 or result.upserted_id is not None
        except DuplicateKeyError:  # someone else holds it
            held = False
        self._held_until = until if held else None
        return held


class OutboxRelay:
    """Publishes pending events of the given Document classes: to ``topic``, or
    to the topic ``routes`` names for an event type (e.g. contact details, which
    go to a topic of their own)."""

    def __init__(self, producer, source: str, topic: str, documents: list[type[OutboxDocument]],
                 batch_size: int = 200, send_timeout: float = 30.0, routes: dict[str, str] | None = None,
                 grace: float = 300.0, lease: bool = False):
        self.producer = producer
        self.source = source
        self.topic = topic
        self.routes = routes or {}
        self.documents = {d._get_collection_name(): d for d in documents}
        self._any = documents[0] if documents else None  # all share the service's database
        self.batch_size = batch_size
        self.send_timeout = send_timeout
        self.grace = timedelta(seconds=grace)
        self.lease = RelayLease(self._any) if lease and self._any else None
        # events this relay published lately: a pointer to events another pointer's round already
        # published can go at once instead of after the grace period
        self._recent = deque(maxlen=100_000)
        self._recent_ids: set[str] = set()

    def run_once(self) -> int:
        """Publish what is pending now; returns how many events were published."""
        if not self.documents or (self.lease is not None and not self.lease.hold()):
            return 0
        pointers = list(_pointers(self._any).find({"due": {"$lte": utcnow()}}).sort("due", ASCENDING)
                        .limit(self.batch_size))
        if not pointers:
            return 0
        pending = self._load(pointers)
        acked = self._publish(pending)
        self._remove(pending, acked)
        self._remember(acked)
        self._settle(pointers, pending)
        return len(acked)

    def _remember(self, acked: set[str]) -> None:
        for event_id in acked:
            if len(self._recent) == self._recent.maxlen:
                self._recent_ids.discard(self._recent[0])
            self._recent.append(event_id)
            self._recent_ids.add(event_id)

    def _load(self, pointers: list[dict]) -> dict:
        """The pending events of every document the pointers name: {(collection, id): [event, ...]}."""
        wanted: dict[str, list] = {}
        for pointer in pointers:
            if pointer.get("collection") in self.documents:
                wanted.setdefault(pointer["collection"], []).append(pointer["doc_id"])
        pending = {}
        for collection, ids in wanted.items():
            for raw in self.documents[collection]._get_collection().find({"_id": {"$in": list(set(ids))}},
                                                                          {"outbox": 1}):
                if raw.get("outbox"):
                    pending[(collection, raw["_id"])] = list(raw["outbox"])
        return pending

    def _publish(self, pending: dict) -> set[str]:
        """Send every event, each document's in order, wait once; returns the acknowledged event ids
        (for each document, the events before its first failure)."""
        futures, failed = [], set()
        for key, events in pending.items():
            for raw in events:
                try:
                    event = PendingEvent._from_son(raw).to_cloudevent(self.source)
                    k, headers, value = event.to_record()
                    future = self.producer.send(self.routes.get(event.type, self.topic), key=k, value=value,
                                                headers=headers)
                except Exception as exc:  # refused before sending (e.g. too large): this document waits
                    failed.add(key)
                    log.error("outbox event cannot be sent", extra={"doc": str(key[1]), "event": raw.get("id"),
                                                                     "error": repr(exc)})
                    break
                futures.append((key, raw["id"], future))
        self.producer.flush(timeout=self.send_timeout)
        acked = set()
        for key, event_id, future in futures:
            if key in failed:
                continue
            try:
                future.get(timeout=self.send_timeout)
                acked.add(event_id)
            except Exception as exc:
                failed.add(key)
                log.warning("outbox publish failed", extra={"doc": str(key[1]), "error": str(exc)})
        return acked

    def _remove(self, pending: dict, acked: set[str]) -> None:
        """Pull exactly the acknowledged events, in one command per collection (idempotent: pulling an
        event a second relay already pulled changes nothing; a document holds only its own events,
        so pulling the batch's events from each document removes exactly that document's)."""
        by_collection: dict[str, tuple[list, list]] = {}
        for (collection, doc_id), events in pending.items():
            done = [raw for raw in events if raw["id"] in acked]
            if done:
                ids, pulled = by_collection.setdefault(collection, ([], []))
                ids.append(doc_id)
                pulled.extend(done)
        for collection, (ids, pulled) in by_collection.items():
            self.documents[collection]._get_collection().update_many({"_id": {"$in": ids}},
                                                                      {"$pullAll": {"outbox": pulled}})

    def _settle(self, pointers: list[dict], pending: dict) -> None:
        """Drop the pointers whose events went out (or whose write never landed: past the grace
        period); look again later at the others."""
        now = utcnow()
        present = {raw["id"] for events in pending.values() for raw in events}
        done, later = [], []
        for pointer in pointers:
            events = pointer.get("events") or []
            if events and all(e in self._recent_ids for e in events):
                done.append(pointer["_id"])
            elif not any(e in present for e in events) and now - _aware(pointer["at"]) > self.grace:
                done.append(pointer["_id"])  # published long ago, or never written
            else:  # not yet written, or its publishing failed: back off
                tries = pointer.get("tries", 0) + 1
                delay = timedelta(seconds=min(0.25 * 2 ** tries, 30.0))
                later.append(UpdateOne({"_id": pointer["_id"]}, {"$set": {"due": now + delay, "tries": tries}}))
        if done:
            _pointers(self._any).delete_many({"_id": {"$in": done}})
        if later:
            _pointers(self._any).bulk_write(later, ordered=False)


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
