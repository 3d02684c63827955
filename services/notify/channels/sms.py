"""SMS through an HTTP gateway: POST {to, text, ref} as JSON to the configured URL with the key as a
bearer token and the delivery's key (hashed) as ``Idempotency-Key``, which the gateway uses to drop a
repeat sent after a crash. 2xx: taken; 429, 5xx or no answer: retry; another 4xx: undeliverable."""
from __future__ import annotations

import hashlib

import requests

from shared.config import Settings

from . import Retry, Undeliverable
from .addresses import Addresses, without


def idempotency_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class SmsChannel:
    name = "sms"

    def __init__(self, settings: Settings, addresses: Addresses):
        self.settings = settings
        self.addresses = addresses
        self.http = requests.Session()

    def send(self, delivery: dict) -> None:
        if not self.settings.sms_url:
            raise Undeliverable("SMS is not configured (GONGHUI_SMS_URL)")
        phone = self.addresses.phone(delivery.get("member_id"))
        if not phone:
            raise Undeliverable("no phone")
        ref = idempotency_key(delivery["key"])
        try:
            response = self.http.post(self.settings.sms_url, json={"to": phone, "text": delivery["body"], "ref": ref},
                                      headers={"Authorization": f"Bearer {self.settings.sms_key}",
                                               "Idempotency-Key": ref}, timeout=10, allow_redirects=False)
        except requests.RequestException as exc:
            raise Retry(without(f"{type(exc).__name__}: {exc}", phone)) from None
        if 200 <= response.status_code < 300:
            return
        error = without(f"gateway answered {response.status_code}: {response.text[:200]}", phone)
        if response.status_code == 429 or response.status_code >= 500:
            raise Retry(error)
        raise Undeliverable(error)

    def close(self) -> None:
        self.http.close()
