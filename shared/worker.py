"""The long-running side of a service: outbox relay plus consumer loop.

Threads: the relay publishes what is pending (one relay per service holds
the lease; more workers of a service stand by for it and share the consumed
partitions), the consumer handles one poll of records at a time, and each
periodic job (imports, expiry, repairs, statistics, forgetting old processed
ids) runs in a thread of its own beside them. Kafka clients are created here,
never at import time.
"""
from __future__ import annotations

import ctypes
import importlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Callable

from . import db, logs
from .config import Settings
from .events import kafka_clients
from .events.consumer import EventConsumer, Handler, dlq_topic, forget_processed, processed_document
from .events.outbox import OutboxDocument, OutboxRelay, ensure_outbox_indexes

log = logging.getLogger(__name__)


@dataclass
class WorkerSpec:
    """What a service's worker does; each service's worker.py declares one."""

    source: str  # ce_source, e.g. /gonghui/members
    publishes: str  # topic name (without prefix) the outbox relays to
    outbox_documents: list[type[OutboxDocument]]
    consumes: list[str] = field(default_factory=list)  # topic names (without prefix)
    handlers: dict[str, Handler] = field(default_factory=dict)
    handler_factory: Callable[[Settings], dict[str, Handler]] | None = None  # handlers that need settings
    factory_types: tuple[str, ...] = ()  # the event types handler_factory's handlers take (for the contracts)
    indexed_documents: list = field(default_factory=list)
    periodic: list[tuple[float | Callable[[Settings], float], Callable[[Settings], object]]] = field(
        default_factory=list)  # (every s, job)
    routes: dict[str, str] = field(default_factory=dict)  # event type -> topic (without prefix), if not `publishes`

    @property
    def handled_types(self) -> list[str]:
        return [*self.handlers, *self.factory_types]


class Worker:
    def __init__(self, settings: Settings, spec: WorkerSpec):
        self.settings = settings
        self.spec = spec
        self._stopping = False
        self._periodic = list(spec.periodic)
        self._wake = threading.Event()
        self._jobs: list[threading.Thread] = []
        self._relaying = None
        self.producer = None
        self.relay = None
        self.consumer = None

    def setup(self) -> None:
        db.connect(self.settings)
        db.ensure_indexes(self.spec.indexed_documents + self.spec.outbox_documents)
        if self.spec.outbox_documents:
            ensure_outbox_indexes(self.spec.outbox_documents[0])
        topics = [self.settings.topic(t) for t in [self.spec.publishes, *set(self.spec.routes.values()),
                                                   *self.spec.consumes]]
        topics += [dlq_topic(self.settings.topic(t), self.settings.group_id) for t in self.spec.consumes]
        self._retry(lambda: kafka_clients.ensure_topics(self.settings, topics), "create topics")
        self.producer = self._retry(lambda: kafka_clients.producer(self.settings), "connect producer")
        self.relay = OutboxRelay(self.producer, self.spec.source, self.settings.topic(self.spec.publishes),
                                 self.spec.outbox_documents, batch_size=self.settings.relay_batch_size,
                                 routes={t: self.settings.topic(topic) for t, topic in self.spec.routes.items()},
                                 lease=True)
        if self.spec.consumes:
            processed = processed_document(self.settings.service)
            processed.ensure_indexes()
            self._periodic.append((3600.0, lambda settings: forget_processed(
                processed, timedelta(days=settings.processed_retention_days))))
            client = self._retry(lambda: kafka_clients.consumer(
                self.settings, [self.settings.topic(t) for t in self.spec.consumes]), "connect consumer")
            handlers = {**self.spec.handlers,
                        **(self.spec.handler_factory(self.settings) if self.spec.handler_factory else {})}
            self.consumer = EventConsumer(client, self.producer, self.settings.group_id, handlers,
                                          processed, max_attempts=self.settings.consumer_max_attempts,
                                          max_records=self.settings.consumer_batch)
        for every, job in self._periodic:
            thread = threading.Thread(target=self._repeat, args=(every, job), daemon=True,
                                      name=f"job-{getattr(job, '__name__', 'periodic')}")
            thread.start()
            self._jobs.append(thread)

    def _retry(self, fn, what: str, attempts: int = 60):
        for attempt in range(1, attempts + 1):
            try:
                return fn()
            except Exception as exc:
                if attempt == attempts or self._stopping:
                    raise
                log.warning(f"{what} failed, retrying", extra={"error": repr(exc), "attempt": attempt})
                time.sleep(min(5.0, 0.5 * attempt))

    def stop(self, *_):
        self._stopping = True
        self._wake.set()

    def _repeat(self, every, job) -> None:
        """Each periodic job in a thread of its own, at start and then every ``every`` seconds (a number,
        or a function of the settings): a long one (a statistics rebuild, a large import) never holds up
        another, nor relaying or consuming."""
        every = every(self.settings) if callable(every) else every
        while not self._stopping:
            started = time.monotonic()
            try:
                job(self.settings)
            except Exception:
                log.exception("periodic job failed", extra={"job": getattr(job, "__name__", str(job))})
            self._wake.wait(max(0.0, every - (time.monotonic() - started)))

    def _relay_loop(self) -> None:
        """Relay independently of the consumer's polls: at once after a full round, otherwise after
        ``batch_wait_ms``, so that a steady trickle of writes is sent in batches rather than one by one."""
        pause = max(self.settings.batch_wait_ms, 10) / 1000
        while not self._stopping:
            try:
                if self.relay.run_once() < self.relay.batch_size:
                    self._wake.wait(pause)
            except Exception:
                log.exception("outbox relay round failed")
                self._wake.wait(1.0)

    def turn(self) -> int:
        """One relay round and one poll, in this thread (tests step workers with it); returns how much
        work was done."""
        work = 0
        try:
            work += self.relay.run_once()
        except Exception:
            log.exception("outbox relay round failed")
            time.sleep(1.0)
        if self.consumer is not None:
            try:
                outcome = self.consumer.poll_once()
                work += outcome.handled + outcome.dead_lettered
            except Exception:
                log.exception("consumer poll failed")
                time.sleep(1.0)
        return work

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self.setup()
        log.info("worker started", extra={"group": self.settings.group_id})
        last_beat = 0.0
        if self.spec.outbox_documents:
            self._relaying = threading.Thread(target=self._relay_loop, name="outbox-relay", daemon=True)
            self._relaying.start()
        while not self._stopping:
            if self.consumer is None:
                self._wake.wait(0.2)
            else:
                try:
                    self.consumer.poll_once()
                except Exception:
                    log.exception("consumer poll failed")
                    time.sleep(1.0)
            if self.settings.heartbeat_file and time.monotonic() - last_beat > 5:
                Path(self.settings.heartbeat_file).touch()  # read by the container health check
                last_beat = time.monotonic()
        self.close()

    def close(self) -> None:
        self.stop()
        stop_job_processes()
        if self._relaying is not None:
            self._relaying.join(timeout=60)
        for thread in self._jobs:
            thread.join(timeout=60)
        if self.consumer is not None:
            self.consumer.consumer.close()
        if self.producer is not None:
            self.producer.close(timeout=10)


def in_own_process(job: Callable[[Settings], object], when: Callable[[], bool]) -> Callable[[Settings], int]:
    """A periodic job that runs in a process of its own whenever ``when()`` (a cheap check, in the worker)
    says there is work: a long, CPU-bound job (a roster import) then shares no interpreter lock with
    relaying and consuming. The process is spawned, not forked (the worker's Kafka and database clients
    run threads), is given the worker's settings, connects the database itself and ends with the job.
    It ends with the worker too: the worker terminates it as it stops (``stop_job_processes``), and the
    kernel sends it SIGTERM if the worker dies without stopping. A process that fails is started again
    only after a pause that doubles with each failure in a row (up to ``MAX_JOB_BACKOFF`` seconds)."""
    if getattr(importlib.import_module(job.__module__), job.__qualname__, None) is not job:
        raise ValueError(f"{job.__qualname__} must be a module-level function: the job's process imports it")
    failures = 0
    resume_at = 0.0

    def run(settings: Settings) -> int:
        nonlocal failures, resume_at
        stops_seen = _stops
        if time.monotonic() < resume_at or not when():
            return 0
        process = multiprocessing.get_context("spawn").Process(
            target=_run_job, args=(settings, job.__module__, job.__qualname__, os.getpid()), daemon=True,
            name=f"{settings.service}-{job.__name__}")
        with _live_lock:
            if _stops != stops_seen:  # the worker began stopping meanwhile
                return 0
            process.start()
            _live.add(process)
        try:
            process.join()  # this thread alone waits for (reaps) the process
        finally:
            with _live_lock:
                _live.discard(process)
        if process.exitcode == 0:
            failures = 0
        elif process.exitcode == -signal.SIGTERM:
            log.info("job process stopped", extra={"job": job.__name__})
        else:
            failures += 1
            pause = min(MAX_JOB_BACKOFF, 2.0 ** failures)
            resume_at = time.monotonic() + pause
            log.error("job process failed", extra={"job": job.__name__, "exitcode": process.exitcode,
                                                   "failures": failures, "next_try_in_s": pause})
        return 1

    run.__name__ = job.__name__
    return run


MAX_JOB_BACKOFF = 300.0
_live_lock = threading.Lock()
_live: set = set()  # job processes running now
_stops = 0  # how many times stop_job_processes ran: a job about to start its process sees it changed


def stop_job_processes() -> None:
    """Ask every job process of this worker to stop (SIGTERM); their job threads wait for them. A stopped
    import is taken up again by the next worker, from its last finished chunk, as after a crash."""
    global _stops
    with _live_lock:
        _stops += 1
        for process in _live:
            process.terminate()


def _end_with_parent(parent: int) -> None:
    """SIGTERM this process when the worker that started it dies (Linux), even by SIGKILL."""
    try:
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
            log.warning("this job process may outlive its worker", extra={"errno": ctypes.get_errno()})
    except (OSError, AttributeError):
        log.warning("this job process may outlive its worker (no prctl here)")
    if os.getppid() != parent:  # the worker died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


PR_SET_PDEATHSIG = 1


def _run_job(settings: Settings, module: str, name: str, parent: int) -> None:
    # Ctrl-C reaches the whole process group: the worker stops, and ends this process as it exits
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.configure(settings.service, settings.log_level)
    _end_with_parent(parent)
    try:
        db.connect(settings)
        getattr(importlib.import_module(module), name)(settings)
    except Exception:
        log.exception("job process failed", extra={"job": name})
        sys.exit(1)


def main(service: str, spec: WorkerSpec) -> None:
    settings = Settings.from_env(service)
    logs.configure(service, settings.log_level)
    Worker(settings, spec).run()
