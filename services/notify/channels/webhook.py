"""Webhooks: a delivery's body (a CloudEvent in structured mode) POSTed to its hook's URL, signed with
the hook's secret (X-Gonghui-Signature: HMAC-SHA256 over ``"<X-Gonghui-Timestamp>." + body``), with the
delivery's key in X-Gonghui-Delivery so a receiver drops a repeat.

Unless an operator allows private addresses, the address actually connected to is checked (the peer of
the socket, after the name was resolved and before a byte is sent), so a name that resolves to an
internal address, or starts to (DNS rebinding), reaches nothing. Redirects are not followed and no proxy
from the environment is used.

A hook counts its failed attempts in a row (``$inc``, so concurrent senders count each one); when they
reach ``webhook_disable_after`` the hook is disabled once (a conditional update) until staff enable it
again, and its further deliveries are undeliverable. A success sets the count back to 0."""
from __future__ import annotations

import logging
import time

import requests
from bson import ObjectId
from bson.errors import InvalidId
from cryptography.fernet import InvalidToken
from pymongo import ReturnDocument
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from shared.config import Settings
from shared.events.envelope import utcnow

from ..documents import Webhook
from ..domain.webhooks import blocked_address, check_url, sign
from ..keys import pii_vault
from . import Retry, Undeliverable

log = logging.getLogger(__name__)

TIMEOUT = (5.0, 10.0)  # connect, read (seconds)
USER_AGENT = "gonghui-webhooks/1"


class BlockedAddress(Exception):
    """The connection reached an address no hook may be delivered to (not an OSError, so that nothing
    in urllib3 or requests retries or rewraps it)."""


def _check_peer(sock) -> None:
    try:
        peer = sock.getpeername()[0]
    except OSError:
        peer = None
    if peer is None or blocked_address(peer):
        sock.close()
        raise BlockedAddress("address not allowed")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self):  # before the TLS handshake: nothing at all goes to a refused address
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """An adapter whose connections refuse loopback, link-local, private and reserved peers."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}

    def proxy_manager_for(self, proxy, **proxy_kwargs):  # a proxy would connect on our behalf, unchecked
        raise BlockedAddress("proxies are not used for webhooks")


def _hook_oid(delivery: dict) -> ObjectId:
    try:
        return ObjectId(delivery.get("hook_id"))
    except (InvalidId, TypeError) as exc:
        raise Undeliverable("no such webhook") from exc


class WebhookChannel:
    name = "webhook"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.allow_private = settings.webhook_allow_private
        self.disable_after = max(1, settings.webhook_disable_after)
        self.vault = pii_vault(settings)
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies or .netrc credentials from the environment
        if not self.allow_private:
            adapter = GuardedAdapter(max_retries=0)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def send(self, delivery: dict) -> None:
        oid = _hook_oid(delivery)
        hook = Webhook._get_collection().find_one({"_id": oid}, {"url": 1, "secret_encrypted": 1, "status": 1})
        if hook is None:
            raise Undeliverable("no such webhook")
        if hook.get("status") != "active":
            raise Undeliverable("webhook disabled" if hook.get("status") == "disabled" else "webhook deleted")
        try:
            secret = self.vault.decrypt(hook["secret_encrypted"])
        except (InvalidToken, KeyError, TypeError, ValueError) as exc:
            # notify's keys, not the receiver: not the hook's failure
            raise Retry("the webhook's secret could not be decrypted") from exc
        body = delivery["body"].encode() if isinstance(delivery["body"], str) else bytes(delivery["body"])
        error = self._post(hook["url"], secret, body, delivery)
        if error is None:
            Webhook._get_collection().update_one({"_id": oid, "failures": {"$ne": 0}}, {"$set": {"failures": 0}})
            return
        self._failed(oid, error)
        raise Retry(error)

    def _post(self, url: str, secret: str, body: bytes, delivery: dict) -> str | None:
        """None once the receiver answered 2xx, else a short reason (never the URL, an address or the secret)."""
        try:
            check_url(url, self.allow_private)
        except ValueError:
            return "URL not allowed"
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "X-Gonghui-Event": delivery.get("event_type") or "",
                   "X-Gonghui-Delivery": delivery.get("key") or "",
                   "X-Gonghui-Timestamp": timestamp,
                   "X-Gonghui-Signature": sign(secret, timestamp, body)}
        try:
            response = self.session.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False,
                                         stream=True)
        except BlockedAddress:
            return "address not allowed"
        except requests.Timeout:
            return "timed out"
        except requests.exceptions.SSLError:
            return "TLS error"
        except requests.ConnectionError:
            return "connection failed"
        except requests.RequestException as exc:
            return f"request failed ({type(exc).__name__})"
        try:
            status = response.status_code
        finally:
            response.close()  # the body is not read: a receiver cannot make us download anything
        if 200 <= status < 300:
            return None
        if 300 <= status < 400:
            return f"HTTP {status} (redirects are not followed)"
        return f"HTTP {status}"

    def _failed(self, oid: ObjectId, error: str) -> None:
        hooks = Webhook._get_collection()
        counted = hooks.find_one_and_update({"_id": oid}, {"$inc": {"failures": 1}},
                                            return_document=ReturnDocument.AFTER)  # (FerretDB: no projection)
        if counted is None or counted.get("failures", 0) < self.disable_after:
            return
        disabled = hooks.update_one(
            {"_id": oid, "status": "active", "failures": {"$gte": self.disable_after}},
            {"$set": {"status": "disabled", "disabled_at": utcnow(),
                      "disabled_reason": f"{counted['failures']} failed deliveries in a row; last: {error}"}})
        if disabled.modified_count:
            log.warning("webhook %s disabled after %s failed deliveries in a row", oid, counted["failures"])
