"""Transactional outbox without multi-document transactions.

A change that emits events writes them with the change, in one single-document
write, so both land or neither does; just before that write, a pointer is
inserted into the service's small ``outbox_pointers`` collection, so the relay
finds pending work by an indexed query instead of scanning the big collections.

- A new document (an insert under a fresh ObjectId) is born with its events:
  they travel in its pointer, and the document itself is written without them.
  The relay publishes them once the document exists (it can only exist if the
  insert happened) and then drops the pointer: nothing is written back to the
  document.
- A change to an existing document appends its events to the document's
  ``outbox`` list in the same update; the relay publishes them and pulls exactly
  those events afterwards.

A writer that dies between its pointer and its write leaves a pointer to
nothing, which the relay drops after a grace period; events never exist without
a pointer. The relay publishes a document's events in order (those it was born
with first), waits for the broker's acknowledgements once for the whole batch,
and removes only what was acknowledged: a relay that dies in between re-sends
(consumers dedupe on ``ce_source`` + ``ce_id``) and never loses. With several
workers of a service running, one holds the relay's lease and the others stand by.

A bulk job (a roster import) may hold its pointers back (``Hold``) and ``release`` them when it
ends: its events then go out in one burst after it, instead of the whole pipeline competing with it.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from time import monotonic

from bson import ObjectId
from mongoengine import DictField, Document, EmbeddedDocument, EmbeddedDocumentField, ListField, StringField
from mongoengine.connection import get_db
from pymongo import ASCENDING, UpdateOne
from pymongo.errors import DuplicateKeyError

from .catalog import EventType
from .envelope import CloudEvent, aware, isoformat, utcnow

log = logging.getLogger(__name__)

POINTERS = "outbox_pointers"
LEASES = "outbox_leases"
RELEASES = "outbox_releases"

class PendingEvent(EmbeddedDocument):
    id = StringField(required=True)
    type = StringField(required=True)
    subject = StringField(required=True)
    time = StringField(required=True)
    dataschema = StringField()
    data = DictField(required=True)


def stored_cloudevent(raw: dict, source: str) -> CloudEvent:
    """The CloudEvent of a pending event as stored (straight from the raw document: the relay sends
    thousands a second, and a mongoengine document per event cost more than sending it)."""
    return CloudEvent(type=raw["type"], source=source, subject=raw["subject"], data=raw["data"], id=raw["id"],
                      time=raw["time"], dataschema=raw.get("dataschema"))


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
        if not unannounced:
            return super().save(*args, **kwargs)
        self._unannounced = []
        if not (self._created or kwargs.get("force_insert")) or not isinstance(self.pk, ObjectId):
            pointer = announce(type(self), self.pk, unannounced)
            try:
                return super().save(*args, **kwargs)
            except BaseException:
                withdraw(type(self), [pointer])
                raise
        # an insert under a fresh ObjectId: the events travel in the pointer, the document without them
        births = [e for e in self.outbox if e.id in unannounced]
        self.outbox = [e for e in self.outbox if e.id not in unannounced]
        pointer = announce(type(self), self.pk, unannounced, payload=[e.to_mongo().to_dict() for e in births])
        try:
            return super().save(*args, **kwargs)
        except BaseException:
            withdraw(type(self), [pointer])
            self.outbox = births + list(self.outbox)
            raise

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
        try:
            changed = cls.objects(pk=pk, **(conditions or {})).update_one(push_all__outbox=pending, **updates)
        except BaseException:
            withdraw(cls, [pointer])
            raise
        if not changed:
            _pointers(cls).delete_one({"_id": pointer})  # nothing was written: nothing to relay
        return bool(changed)


def update_many_with_events(document: type[OutboxDocument], changes: list[tuple]) -> None:
    """Many single-document changes, each with its events, in two round trips (the pointers, then one
    bulk write): each change is (pk, conditions, update, [(event_type, data), ...]) in raw MongoDB terms.
    A change whose conditions no longer hold (or that failed) writes nothing, and its pointer is dropped by
    the relay after the grace period."""
    pointers, operations = [], []
    for pk, conditions, update, events in changes:
        pending = [pending_event_son(event_type, str(pk), data) for event_type, data in events]
        if pending:
            pointers.append(_pointer(document, pk, [p["id"] for p in pending]))
            update = {**update, "$push": {**update.get("$push", {}), "outbox": {"$each": pending}}}
        operations.append(UpdateOne({"_id": pk, **conditions}, update))
    if pointers:
        _pointers(document).insert_many(pointers, ordered=False)
    if operations:  # a failure part-way keeps every pointer: some of the writes may have landed
        document._get_collection().bulk_write(operations, ordered=False)


def pending_event(event_type: EventType, subject: str, data: dict) -> PendingEvent:
    return PendingEvent(**pending_event_son(event_type, subject, data))


def pending_event_son(event_type: EventType, subject: str, data: dict) -> dict:
    """A pending event as stored, for bulk paths that write raw documents (validated all the same)."""
    event_type.validate(data)
    return {"id": uuid.uuid4().hex, "type": event_type.name, "subject": subject, "time": isoformat(utcnow()),
            "dataschema": event_type.dataschema, "data": data}


def _bookkeeping(document: type[OutboxDocument], name: str):
    """One of the outbox's own collections, in the database of the service's documents."""
    return get_db(document._meta["db_alias"])[name]


def _pointers(document: type[OutboxDocument]):
    return _bookkeeping(document, POINTERS)


def _pointer(document: type[OutboxDocument], pk, event_ids: list[str], payload: list[dict] | None = None,
             hold: Hold | None = None) -> dict:
    now = utcnow()
    pointer = {"_id": ObjectId(), "collection": document._get_collection_name(), "doc_id": pk,
               "events": event_ids, "at": now, "due": now, "tries": 0}
    if payload:
        pointer["payload"] = payload  # the events a new document is born with
    if hold is not None:
        pointer.update(held_by=hold.by, due=now + hold.at_most)
    return pointer


def announce(document: type[OutboxDocument], pk, event_ids: list[str], payload: list[dict] | None = None) -> ObjectId:
    """Insert the pointer for events about to be written to one document (call before the write);
    ``payload``: the events themselves, for a document about to be inserted without them."""
    pointer = _pointer(document, pk, event_ids, payload)
    _pointers(document).insert_one(pointer)
    return pointer["_id"]


@dataclass(frozen=True)
class Hold:
    """Pointers the relay leaves alone until ``release(by)``, or ``at_most`` after they were written
    should nothing release them (their writer died): a bulk job's events wait for its end, so that the
    services' consumers do not compete with the job for the machine while it runs."""

    by: str
    at_most: timedelta


def announce_many(document: type[OutboxDocument], documents: list[dict], hold: Hold | None = None) -> dict:
    """Pointers for a batch of raw documents about to be inserted under fresh ObjectIds (bulk paths),
    in one round trip: each document's ``outbox`` events move into its pointer. Returns each
    document's pointer id, for ``withdraw`` if its insert fails."""
    pointers = {}
    for doc in documents:
        events = doc.get("outbox") or []
        if events:
            pointers[doc["_id"]] = _pointer(document, doc["_id"], [e["id"] for e in events], payload=events,
                                            hold=hold)
            doc["outbox"] = []
    if pointers:
        _pointers(document).insert_many(list(pointers.values()), ordered=False)
    return {pk: pointer["_id"] for pk, pointer in pointers.items()}


def release(document: type[OutboxDocument], held_by: str) -> None:
    """Hand the pointers a hold kept back to the relay now (idempotent). One write, not one per pointer
    (rewriting 20,000 pointers took 7 s): the relay reads a released hold's pointers by ``held_by``."""
    _releases(document).update_one({"_id": held_by}, {"$set": {"at": utcnow()}}, upsert=True)


def _releases(document: type[OutboxDocument]):
    return _bookkeeping(document, RELEASES)


def withdraw(document: type[OutboxDocument], pointer_ids: list) -> None:
    """Remove pointers whose write did not happen (e.g. a duplicate refused by a unique index)."""
    if pointer_ids:
        _pointers(document).delete_many({"_id": {"$in": pointer_ids}})


def pending_events(document: type[OutboxDocument], pk) -> list[PendingEvent]:
    """A document's events not yet published, in order: those it was born with (in its pointer), then
    those of later changes (in its outbox)."""
    born = _pointers(document).find({"collection": document._get_collection_name(), "doc_id": pk,
                                     "payload": {"$exists": True}}).sort("_id", ASCENDING)
    raw = document._get_collection().find_one({"_id": pk}, {"outbox": 1}) or {}
    return [PendingEvent._from_son(e) for p in born for e in p["payload"]] + [
        PendingEvent._from_son(e) for e in raw.get("outbox") or []]


def ensure_outbox_indexes(document: type[OutboxDocument]) -> None:
    _pointers(document).create_index([("due", ASCENDING)])
    _pointers(document).create_index([("doc_id", ASCENDING)])
    _pointers(document).create_index([("held_by", ASCENDING)])


class RelayLease:
    """At most one relay per service publishes at a time: the holder renews a
    lease document; another worker takes over once it has run out."""

    def __init__(self, document: type[OutboxDocument], ttl: float = 10.0):
        self.collection = _bookkeeping(document, LEASES)
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

    RELEASES_EVERY = 1.0  # seconds: released holds are looked for this often while none is found

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
        self._releases_next = 0.0
        self._recent_ids: set[str] = set()

    def run_once(self) -> int:
        """Publish what is pending now; returns how many events were published."""
        if not self.documents or (self.lease is not None and not self.lease.hold()):
            return 0
        pointers = self._due()
        if not pointers:
            return 0
        outboxes = self._load([p for p in pointers if not p.get("payload")])
        births = self._births(pointers, outboxes)
        sequences = {}
        for pointer in births:  # oldest first: a document's birth, then its later changes
            sequences.setdefault((pointer["collection"], pointer["doc_id"]), []).extend(pointer["payload"])
        for key, events in outboxes.items():
            sequences.setdefault(key, []).extend(events)
        acked = self._publish(sequences)
        self._remove(outboxes, acked)
        self._remember(acked)
        self._settle(pointers, births, outboxes)
        return len(acked)

    def _due(self) -> list[dict]:
        """The pointers to look at now: those due, then those of released holds (looked for at most
        every RELEASES_EVERY while there are none; a released hold whose pointers are all gone is
        forgotten)."""
        now = utcnow()
        due = list(_pointers(self._any).find({"due": {"$lte": now}}).sort("due", ASCENDING).limit(self.batch_size))
        if len(due) >= self.batch_size or monotonic() < self._releases_next:
            return due
        for released in _releases(self._any).find({}).sort("at", ASCENDING):
            held = list(_pointers(self._any).find({"held_by": released["_id"], "due": {"$gt": now}})
                        .sort("due", ASCENDING).limit(self.batch_size - len(due)))
            if not held:
                _releases(self._any).delete_one({"_id": released["_id"], "at": released["at"]})
            due += held
            if len(due) >= self.batch_size:
                return due  # more may wait: look again next round
        self._releases_next = monotonic() + self.RELEASES_EVERY
        return due

    def _load(self, pointers: list[dict]) -> dict:
        """The pending outbox events of the documents the pointers name: {(collection, id): [event, ...]}."""
        wanted: dict[str, set] = {}
        for pointer in pointers:
            if pointer.get("collection") in self.documents:
                wanted.setdefault(pointer["collection"], set()).add(pointer["doc_id"])
        pending = {}
        for collection, ids in wanted.items():
            for raw in self.documents[collection]._get_collection().find({"_id": {"$in": list(ids)}}, {"outbox": 1}):
                if raw.get("outbox"):
                    pending[(collection, raw["_id"])] = list(raw["outbox"])
        return pending

    def _births(self, pointers: list[dict], outboxes: dict) -> list[dict]:
        """The pointers carrying the events of new documents that exist now, oldest first: those due now,
        and any older one of a document whose later events go out in this round (it must go first)."""
        born = [p for p in pointers if p.get("payload") and p.get("collection") in self.documents]
        seen = {p["_id"] for p in born}
        if outboxes:
            for pointer in _pointers(self._any).find({"doc_id": {"$in": list({k[1] for k in outboxes})},
                                                      "payload": {"$exists": True}}):
                if pointer["_id"] not in seen and (pointer["collection"], pointer["doc_id"]) in outboxes:
                    born.append(pointer)
                    seen.add(pointer["_id"])
        wanted: dict[str, set] = {}
        for pointer in born:
            wanted.setdefault(pointer["collection"], set()).add(pointer["doc_id"])
        existing = set(outboxes)
        for collection, ids in wanted.items():
            existing.update((collection, raw["_id"]) for raw in self.documents[collection]._get_collection().find(
                {"_id": {"$in": list(ids)}}, {"_id": 1}))
        return sorted((p for p in born if (p["collection"], p["doc_id"]) in existing), key=lambda p: p["_id"])

    def _publish(self, sequences: dict) -> set[str]:
        """Send every event, each document's in order, wait once; returns the acknowledged event ids
        (for each document, the events before its first failure)."""
        futures, failed = [], set()
        for key, events in sequences.items():
            for raw in events:
                try:
                    event = stored_cloudevent(raw, self.source)
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

    def _remove(self, outboxes: dict, acked: set[str]) -> None:
        """Pull exactly the acknowledged outbox events, one statement per document in one command per
        collection (idempotent: pulling an event a second relay already pulled changes nothing). Each
        statement names only its document's events: a shared list would be compared with every event
        of every document."""
        by_collection: dict[str, list] = {}
        for (collection, doc_id), events in outboxes.items():
            done = [raw for raw in events if raw["id"] in acked]
            if done:
                by_collection.setdefault(collection, []).append(
                    UpdateOne({"_id": doc_id}, {"$pullAll": {"outbox": done}}))
        for collection, updates in by_collection.items():
            self.documents[collection]._get_collection().bulk_write(updates, ordered=False)

    def _remember(self, acked: set[str]) -> None:
        for event_id in acked:
            if len(self._recent) == self._recent.maxlen:
                self._recent_ids.discard(self._recent[0])
            self._recent.append(event_id)
            self._recent_ids.add(event_id)

    def _settle(self, pointers: list[dict], births: list[dict], outboxes: dict) -> None:
        """Drop the pointers whose events went out (or whose write never landed: past the grace
        period); look again later at the others."""
        now = utcnow()
        present = {raw["id"] for events in outboxes.values() for raw in events}
        born = {p["_id"] for p in births}  # their documents exist: they go only once published
        published = {p["_id"] for p in births if all(e in self._recent_ids for e in p["events"])}
        done, later = list(published - {p["_id"] for p in pointers}), []  # older births sent along
        for pointer in pointers:
            events = pointer.get("events") or []
            if pointer["_id"] in published or (events and all(e in self._recent_ids for e in events)):
                done.append(pointer["_id"])
            elif (pointer["_id"] not in born and not any(e in present for e in events)
                  and now - aware(pointer["at"]) > self.grace):
                done.append(pointer["_id"])  # published long ago, or never written
            else:  # not yet written, or its publishing failed: back off
                tries = pointer.get("tries", 0) + 1
                delay = timedelta(seconds=min(0.25 * 2 ** tries, 30.0))
                later.append(UpdateOne({"_id": pointer["_id"]}, {"$set": {"due": now + delay, "tries": tries},
                                                                 "$unset": {"held_by": ""}}))
        if done:
            _pointers(self._any).delete_many({"_id": {"$in": done}})
        if later:
            _pointers(self._any).bulk_write(later, ordered=False)
