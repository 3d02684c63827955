"""Personal data at rest and in transit: encrypted for whoever may read it, fingerprinted for
uniqueness checks, masked for everyone else.

Keys are Fernet keys (urlsafe base64 of 32 bytes), given newest first: the first encrypts, every
one decrypts, so a key is rotated by putting a new one in front, re-encrypting (``rotate``), then
dropping the old one. The fingerprint key is separate and never rotates: fingerprints are how a
person is recognised across the federation, and they must not change when encryption keys do.
"""
from __future__ import annotations

import hashlib
import hmac
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger(__name__)


def parse_keys(value: str | None) -> list[str]:
    """``"new,old"`` → ``["new", "old"]`` (blank entries ignored)."""
    return [key.strip() for key in (value or "").split(",") if key.strip()]


class Vault:
    def __init__(self, keys: list[str] | str, fingerprint_key: str | None = None, what: str = "GONGHUI_PII_KEYS"):
        keys = parse_keys(keys) if isinstance(keys, str) else list(keys)
        if not keys:
            raise RuntimeError(f"{what} must be set (Fernet keys, newest first)")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        self.key_count = len(keys)
        if fingerprint_key:
            self._mac_key = fingerprint_key.encode()
        else:  # deployments from before the keys were separated: derived from their original (oldest) key
            self._mac_key = hashlib.sha256(b"gonghui-pii-fingerprint|" + keys[-1].encode()).digest()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def encrypt_bytes(self, value: bytes) -> bytes:
        return self._fernet.encrypt(value)

    def decrypt_bytes(self, token: bytes) -> bytes:
        return self._fernet.decrypt(token)

    def rotate(self, token: str) -> str:
        """The same value, encrypted again with the newest key."""
        return self._fernet.rotate(token.encode()).decode()

    def fingerprint(self, value: str) -> str:
        return hmac.new(self._mac_key, value.encode(), hashlib.sha256).hexdigest()


def new_key() -> str:
    return Fernet.generate_key().decode()




def rotate_collection(collection, fields: tuple[str, ...], vault: Vault, batch: int = 500,
                      progress=None) -> int:
    """Re-encrypt ``fields`` of every document in a pymongo ``collection`` with the vault's newest key
    (a pass over the whole collection, in ``_id`` order and batches, run on an operator's request);
    returns the documents rewritten. Safe to interrupt and run again."""
    from pymongo import UpdateOne

    rewritten, last = 0, None
    projection = {name: 1 for name in fields}
    while True:
        query = {"_id": {"$gt": last}} if last is not None else {}
        rows = list(collection.find(query, projection).sort("_id", 1).limit(batch))
        if not rows:
            return rewritten
        updates = []
        for row in rows:
            sets = {name: vault.rotate(row[name]) for name in fields if row.get(name)}
            if sets:  # guarded by the old values: a concurrent change wins and is already under the new key
                updates.append(UpdateOne({"_id": row["_id"], **{n: row[n] for n in sets}}, {"$set": sets}))
        if updates:
            rewritten += collection.bulk_write(updates, ordered=False).modified_count
        last = rows[-1]["_id"]
        if progress:
            progress(rewritten)


__all__ = ["InvalidToken", "Vault", "new_key", "parse_keys", "rotate_collection"]
