"""Idempotent consumer: commit after handling, remember handled ids, DLQ.

Each poll is handled as a batch: the records are parsed (one that does not
parse goes to ``<topic>.dlq.<group>`` at once), the ids already handled
(``group|ce_source|ce_id``) are looked up in one query and skipped, the rest go
to their handlers, the handled ids are recorded in one write, and only then is
the offset committed. A crash anywhere in between replays the poll: handlers
are idempotent, so a replay has no second effect.

A handler is a function of one event, or a ``Batched`` pair whose ``many``
takes a list of events in one go (bulk writes); batched handlers must not
depend on the order of the events they get together. Events are handed over in
record order, a run of batched events at a time. A batch that fails is retried
event by event with ``one``, so only a poisoned event is retried
``max_attempts`` times and then dead-lettered, with the error.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Union

from mongoengine import DateTimeField, Document, StringField

from ..db import insert_new
from .envelope import CloudEvent, EnvelopeError, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Batched:
    """A handler that can take many events at once (idempotent and order-insensitive)."""

    one: Callable[[CloudEvent], None]
    many: Callable[[list[CloudEvent]], None]


Handler = Union[Callable[[CloudEvent], None], Batched]


def processed_document(alias: str) -> type[Document]:
    """The processed-events collection, in the consuming service's database."""

    class ProcessedEvent(Document):
        id = StringField(primary_key=True)  # group|source|ce_id
        type = StringField()
        handled_at = DateTimeField(default=utcnow)
        meta = {"db_alias": alias, "collection": "processed_events", "indexes": ["handled_at"]}

    return ProcessedEvent


def forget_processed(processed: type[Document], older_than: timedelta) -> int:
    """Drop the record of events handled longer ago than the topics keep them: they cannot come back."""
    return processed._get_collection().delete_many({"handled_at": {"$lt": utcnow() - older_than}}).deleted_count


def dlq_topic(topic: str, group: str) -> str:
    return f"{topic}.dlq.{group}"


@dataclass
class Outcome:
    handled: int = 0
    skipped: int = 0
    dead_lettered: int = 0


@dataclass
class _Item:
    record: object
    event: CloudEvent
    key: str
    handler: Handler


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
        if not batches:
            return outcome
        firsts = {tp: records[0].offset for tp, records in batches.items() if records}
        try:
            items = self._new_items([r for records in batches.values() for r in records], outcome)
            self._handle(items, outcome)
            self._remember(items)
            self.consumer.commit()
        except Exception:
            self._rewind(firsts)
            raise
        return outcome

    def _new_items(self, records: list, outcome: Outcome) -> list[_Item]:
        """Parse the records; dead-letter the unreadable, skip unknown types and ids handled before."""
        items = []
        for record in records:
            try:
                event = CloudEvent.from_record(record.headers, record.value)
            except EnvelopeError as exc:
                self._dead_letter(record, f"unreadable envelope: {exc}")
                outcome.dead_lettered += 1
                continue
            handler = self.handlers.get(event.type)
            if handler is None:
                outcome.skipped += 1  # not ours to handle: unknown types are ignored
                continue
            items.append(_Item(record, event, f"{self.group}|{event.source}|{event.id}", handler))
        keys = list({item.key for item in items})
        seen = set()
        if keys:  # a poll holding only event types that are not ours costs no query
            seen = {raw["_id"] for raw in self.processed._get_collection().find({"_id": {"$in": keys}}, {"_id": 1})}
        fresh, taken = [], set()
        for item in items:
            if item.key in seen or item.key in taken:  # handled before, or twice in this poll
                outcome.skipped += 1
            else:
                taken.add(item.key)
                fresh.append(item)
        return fresh

    def _handle(self, items: list[_Item], outcome: Outcome) -> None:
        """In record order; consecutive batched events go to their handlers together."""
        run: list[_Item] = []
        for item in items:
            if isinstance(item.handler, Batched):
                run.append(item)
                continue
            self._handle_run(run, outcome)
            run = []
            self._handle_one(item, item.handler, outcome)
        self._handle_run(run, outcome)

    def _handle_run(self, run: list[_Item], outcome: Outcome) -> None:
        by_handler: dict[int, list[_Item]] = {}
        for item in run:
            by_handler.setdefault(id(item.handler), []).append(item)
        for group in by_handler.values():
            try:
                group[0].handler.many([item.event for item in group])
                outcome.handled += len(group)
            except Exception as exc:
                log.warning("batch handler failed, handling one by one",
                            extra={"ce_type": group[0].event.type, "count": len(group), "error": repr(exc)})
                for item in group:
                    self._handle_one(item, item.handler.one, outcome)

    def _handle_one(self, item: _Item, handler: Callable[[CloudEvent], None], outcome: Outcome) -> None:
        error = self._handle_with_retries(handler, item.event)
        if error is not None:
            self._dead_letter(item.record, error)
            outcome.dead_lettered += 1
        else:
            outcome.handled += 1

    def _remember(self, items: list[_Item]) -> None:
        if not items:
            return
        now = utcnow()
        # one another member of the group recorded first (after a rebalance) is skipped
        insert_new(self.processed._get_collection(),
                   [{"_id": item.key, "type": item.event.type, "handled_at": now} for item in items])

    def _rewind(self, firsts: dict) -> None:
        """After a failure mid-batch, go back to the first record of the failed poll in each partition,
        so nothing polled but unhandled is skipped by this process (a local seek: it works while the
        broker, whose outage may be the failure, is away)."""
        for tp, offset in firsts.items():
            self.consumer.seek(tp, offset)

    def _handle_with_retries(self, handler: Callable[[CloudEvent], None], event: CloudEvent) -> str | None:
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
