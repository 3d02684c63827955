"""Sending: the worker claims the deliveries that are due (and those whose sender died before recording
an outcome: their lease ran out), sends them on a few threads — each with its own SMTP connection, HTTP
sessions — and records each attempt with its outcome as soon as it is known: sent, retrying (exponential
backoff) or dead; sent and dead publish delivery.sent / delivery.failed.

Exactly once as far as notify can make it: a delivery exists once per key; a claim is an atomic
conditional update, so two senders never hold the same delivery; an outcome is recorded only by the
claim that sent it. What no sender can know is whether a receiver took a message when the process died
between sending and recording: that delivery is sent again once its lease runs out, with the same
Message-ID / Idempotency-Key / X-Gonghui-Delivery, by which the mailbox, the gateway or the system drops
the repeat."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from shared.config import Settings
from shared.events.envelope import utcnow
from shared.events.outbox import update_many_with_events

from ..channels import Retry, Undeliverable
from ..channels.addresses import Addresses
from ..channels.email import EmailChannel
from ..channels.sms import SmsChannel
from ..documents import Delivery
from ..domain.deliveries import retry_at
from ..keys import pii_vault
from ..published import DELIVERY_FAILED, DELIVERY_SENT, delivery_outcome

log = logging.getLogger(__name__)
THREADS = 8
PER_THREAD = 4  # deliveries a thread holds per claim: with a 15 s timeout each, well inside the lease
DUE = ("pending", "retrying")


def channels(settings: Settings) -> dict:
    from ..channels.webhook import WebhookChannel

    addresses = Addresses(pii_vault(settings))
    return {"email": EmailChannel(settings, addresses), "sms": SmsChannel(settings, addresses),
            "webhook": WebhookChannel(settings)}


def claim(settings: Settings, limit: int) -> list[dict]:
    """Take up to ``limit`` deliveries for this sender: due ones, oldest first, and those whose lease ran
    out (their try is logged as interrupted)."""
    now = utcnow()
    collection = Delivery._get_collection()
    token, lease = uuid.uuid4().hex, now + timedelta(seconds=settings.delivery_lease_seconds)
    taken = {"$set": {"status": "sending", "lease_until": lease, "claim": token}, "$inc": {"attempts": 1}}
    due = [row["_id"] for row in collection.find({"status": {"$in": list(DUE)}, "next_at": {"$lte": now}}, {"_id": 1})
           .sort("next_at", 1).limit(limit)]
    if due:
        collection.update_many({"_id": {"$in": due}, "status": {"$in": list(DUE)}}, taken)
    for row in collection.find({"status": "sending", "lease_until": {"$lt": now}}, {"attempts": 1}).limit(limit):
        interrupted = {"number": row.get("attempts", 0), "at": now, "status": "interrupted",
                       "error": "the sender stopped before recording an outcome (it may have sent it); "
                                "sent again with the same key"}
        collection.update_one({"_id": row["_id"], "status": "sending", "lease_until": {"$lt": now}},
                              {**taken, "$push": {"tries": interrupted}})
    return list(collection.find({"claim": token}, {"outbox": 0, "tries": 0}))


def _attempt(channel_set: dict, delivery: dict) -> tuple[dict, str, str | None, int]:
    started = time.monotonic()
    try:
        channel = channel_set.get(delivery["channel"])
        if channel is None:
            raise Undeliverable(f"unknown channel {delivery['channel']}")
        channel.send(delivery)
        outcome, error = "sent", None
    except Retry as exc:
        outcome, error = "retry", str(exc) or "failed"
    except Undeliverable as exc:
        outcome, error = "dead", str(exc) or "undeliverable"
    except Exception as exc:  # a fault of ours: logged, and tried again like a receiver's
        log.exception("delivery raised", extra={"delivery": str(delivery["_id"]), "channel": delivery["channel"]})
        outcome, error = "retry", type(exc).__name__
    return delivery, outcome, error, int((time.monotonic() - started) * 1000)


def record(settings: Settings, results: list[tuple[dict, str, str | None, int]]) -> None:
    """Attempts' outcomes, only where this sender's claim still holds, in one bulk write."""
    now = utcnow()
    changes = []
    for delivery, outcome, error, took_ms in results:
        number = delivery["attempts"]
        if outcome == "retry":
            when = retry_at(now, number, settings.delivery_max_attempts, settings.delivery_backoff_seconds)
            if when is None:
                outcome = "dead"
        attempt = {"number": number, "at": now, "status": "sent" if outcome == "sent" else "failed", "took_ms": took_ms}
        if error:
            attempt["error"] = error[:500]
        release = {"lease_until": None, "claim": None}
        if outcome == "sent":
            update, events = {"$set": {"status": "sent", "sent_at": now, **release}}, [
                (DELIVERY_SENT, delivery_outcome(delivery, number, now))]
        elif outcome == "retry":
            update, events = {"$set": {"status": "retrying", "next_at": when, **release}}, []
        else:
            update, events = {"$set": {"status": "dead", **release}}, [
                (DELIVERY_FAILED, delivery_outcome(delivery, number, now, error or "failed"))]
        if outcome != "sent":
            log.warning("delivery failed", extra={"delivery": str(delivery["_id"]), "channel": delivery["channel"],
                                                  "attempt": number, "outcome": outcome, "error": error})
        changes.append((delivery["_id"], {"claim": delivery["claim"]}, {**update, "$push": {"tries": attempt}}, events))
    update_many_with_events(Delivery, changes)


def send_due(settings: Settings, rounds: int | None = None) -> int:
    """The worker's periodic job: claim, send and record until nothing is due (``rounds`` claims at most,
    for tests). Returns the attempts made."""
    local, made = threading.local(), []
    lock = threading.Lock()

    def attempt(delivery: dict) -> None:
        if not hasattr(local, "channels"):
            local.channels = channels(settings)
            with lock:
                made.append(local.channels)
        record(settings, [_attempt(local.channels, delivery)])  # at once: a crash repeats only what was in flight

    attempts = done = 0
    try:
        with ThreadPoolExecutor(THREADS, thread_name_prefix="sender") as pool:
            while rounds is None or done < rounds:
                claimed = claim(settings, THREADS * PER_THREAD)
                if not claimed:
                    break
                list(pool.map(attempt, claimed))
                attempts += len(claimed)
                done += 1
    finally:
        for channel_set in made:
            for channel in channel_set.values():
                channel.close()
    return attempts
