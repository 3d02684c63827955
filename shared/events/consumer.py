"""Idempotent consumer: commit after handling, remember handled ids, DLQ.

For each record: parse the envelope; skip it if (group, ce_source, ce_id) was
handled before; otherwise run the handler for its type (with retries), record
the id, and only then commit the offset. A record that does not parse, or
whose handler keeps failing, goes to ``<topic>.dlq.<group>`` with the error.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

from mongoengine import DateTimeField, Document, StringField
from pymongo.errors import DuplicateKeyError

from .envelope import CloudEvent, EnvelopeError, utcnow

log = logging.getLogger(__name__)

Handler = Callable[[CloudEvent], None]


def processed_document(alias: str) -> type[Document]:
    """The processed-events collection, in the consuming service's database."""

    class ProcessedEvent(Document):
        id = StringField(primary_key=True)  # group|source|ce_id
        type = StringField()
        handled_at = DateTimeField(default=utcnow)
        meta = {"db_alias": alias, "collection": "processed_events"}

    return ProcessedEvent


def dlq_topic(topic: str, group: str) -> str:
    return f"{topic}.dlq.{group}"


@dataclass
class Outcome:
    handled: int = 0
    skipped: int = 0
    dead_lettered: int = 0


class EventConsumer:
    def __init__(self, consumer, producer, group: str, handlers: dict[str, Handler], processed: type[Document],
                 max_attempts: int = 5, retry_backoff: float = 0.2, poll_timeout_ms: int = 200,
                 max_records: int = 200):
        self.consumer = consumer
        self.producer = producer
        self.group = group
        self.handlers = handlers
        self.processed = processed
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.poll_timeout_ms = poll_timeout_ms
        self.max_records = max_records

    def poll_once(self) -> Outcome:
        outcome = Outcome()
        batches = self.consumer.poll(timeout_ms=self.poll_timeout_ms, max_records=self.max_records)
        try:
            for _, records in batches.items():
                for record in records:
                    self._consume(record, outcome)
            if batches:
                self.consumer.commit()
        except Exception:
            self._rewind()
            raise
        return outcome

    def _rewind(self) -> None:
        """After a failure mid-batch, go back to the last committed offsets so
        nothing polled but unhandled is skipped by this process."""
        for tp in self.consumer.assignment():
            committed = self.consumer.committed(tp)
            if committed is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, committed)

    def _consume(self, record, outcome: Outcome) -> None:
        try:
            event = CloudEvent.from_record(record.headers, record.value)
        except EnvelopeError as exc:
            self._dead_letter(record, f"unreadable envelope: {exc}")
            outcome.dead_lettered += 1
            return
        handler = self.handlers.get(event.type)
        if handler is None:
            outcome.skipped += 1  # not ours to handle: unknown types are ignored
            return
        key = f"{self.group}|{event.source}|{event.id}"
        if self.processed.objects(pk=key).only("id").first() is not None:
            outcome.skipped += 1
            return
        error = self._handle_with_retries(handler, event)
        if error is not None:
            self._dead_letter(record, error)
            outcome.dead_lettered += 1
        try:
            self.processed(pk=key, type=event.type).save(force_insert=True)
        except DuplicateKeyError:
            pass  # another member of the group got there first after a rebalance
        outcome.handled += error is None

    def _handle_with_retries(self, handler: Handler, event: CloudEvent) -> str | None:
        for attempt in range(1, self.max_attempts + 1):
            try:
                handler(event)
                return None
            except Exception as exc:  # a handler bug or a passing outage
                log.warning("handler failed", extra={"ce_type": event.type, "ce_id": event.id,
                                                     "attempt": attempt, "error": repr(exc)})
                if attempt == self.max_attempts:
                    return f"{type(exc).__name__}: {exc}"
                time.sleep(self.retry_backoff * 2 ** (attempt - 1))
        return None

    def _dead_letter(self, record, error: str) -> None:
        headers = list(record.headers or []) + [
            ("dlq_error", error[:2000].encode()),
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
            ("dlq_group", self.group.encode()),
        ]
        self.producer.send(dlq_topic(record.topic, self.group), key=record.key, value=record.value,
                           headers=headers).get(timeout=30)
        log.error("event dead-lettered", extra={"topic": record.topic, "offset": record.offset, "error": error})
