"""Transactional outbox without multi-document transactions.

A Document that emits events embeds its pending events (``outbox``) and a flag
(``outbox_pending``), written by the very same single-document insert or
update as the change itself: both land or neither does. The relay publishes
a document's events in order and removes each one only after the broker has
acknowledged it, so a crash between the two re-sends (consumers dedupe on
``ce_source`` + ``ce_id``) and never loses.
"""
from __future__ import annotations

import logging
import uuid

from mongoengine import (
    BooleanField,
    DictField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    ListField,
    StringField,
)

from .catalog import EventType
from .envelope import CloudEvent, isoformat, utcnow

log = logging.getLogger(__name__)


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
    outbox_pending = BooleanField(default=False)

    meta = {"abstract": True, "indexes": ["outbox_pending"]}

    def record(self, event_type: EventType, data: dict) -> PendingEvent:
        """Add an event to an unsaved document: the insert carries it."""
        pending = pending_event(event_type, str(self.pk), data)
        self.outbox.append(pending)
        self.outbox_pending = True
        return pending


def pending_event(event_type: EventType, subject: str, data: dict) -> PendingEvent:
    event_type.validate(data)
    return PendingEvent(id=uuid.uuid4().hex, type=event_type.name, subject=subject,
                        time=isoformat(utcnow()), dataschema=event_type.dataschema, data=data)


def outbox_update(event_type: EventType, subject: str, data: dict) -> dict:
    """mongoengine update kwargs that append an event to an existing document,
    to be merged into the atomic update that makes the change itself."""
    return {"push__outbox": pending_event(event_type, subject, data), "set__outbox_pending": True}


class OutboxRelay:
    """Publishes pending events of the given Document classes to one topic."""

    def __init__(self, producer, source: str, topic: str, documents: list[type[OutboxDocument]],
                 batch_size: int = 200, send_timeout: float = 30.0):
        self.producer = producer
        self.source = source
        self.topic = topic
        self.documents = documents
        self.batch_size = batch_size
        self.send_timeout = send_timeout

    def run_once(self) -> int:
        """Publish what is pending now; returns how many events were published."""
        published = 0
        for document in self.documents:
            published += self._relay(document)
        return published

    def _relay(self, document: type[OutboxDocument]) -> int:
        collection = document._get_collection()
        docs = list(collection.find({"outbox_pending": True}, {"outbox": 1}).limit(self.batch_size))
        published = 0
        # Round k sends the k-th pending event of every document whose earlier
        # events all succeeded: per-key order holds and documents go in parallel.
        queues = {doc["_id"]: list(doc.get("outbox") or []) for doc in docs}
        while queues:
            futures = {}
            for doc_id, events in queues.items():
                event = PendingEvent._from_son(events[0]).to_cloudevent(self.source)
                key, headers, value = event.to_record()
                futures[doc_id] = (events[0]["id"], self.producer.send(self.topic, key=key, value=value, headers=headers))
            self.producer.flush(timeout=self.send_timeout)
            next_queues = {}
            for doc_id, (event_id, future) in futures.items():
                try:
                    future.get(timeout=self.send_timeout)
                except Exception as exc:
                    log.warning("outbox publish failed", extra={"doc_id": str(doc_id), "error": str(exc)})
                    continue
                collection.update_one({"_id": doc_id, "outbox.0.id": event_id}, {"$pop": {"outbox": -1}})
                published += 1
                rest = queues[doc_id][1:]
                if rest:
                    next_queues[doc_id] = rest
                else:
                    collection.update_one({"_id": doc_id, "outbox": {"$size": 0}}, {"$set": {"outbox_pending": False}})
            queues = next_queues
        return published


