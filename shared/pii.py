"""Personal data at rest: encrypted for whoever may read it, fingerprinted
for uniqueness checks, masked for everyone else.

``GONGHUI_PII_KEY`` is a Fernet key (urlsafe base64 of 32 bytes); the
fingerprint key is derived from it, so one secret is all an operator keeps.
"""
from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet


class Vault:
    def __init__(self, key: str):
        if not key:
            raise RuntimeError("GONGHUI_PII_KEY must be set (a Fernet key)")
        self._fernet = Fernet(key.encode())
        self._mac_key = hashlib.sha256(b"gonghui-pii-fingerprint|" + key.encode()).digest()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def fingerprint(self, value: str) -> str:
        return hmac.new(self._mac_key, value.encode(), hashlib.sha256).hexdigest()


def new_key() -> str:
    return Fernet.generate_key().decode()
