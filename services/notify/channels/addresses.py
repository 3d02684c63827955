"""A member's email address and phone, read from notify's contacts and decrypted only when sending;
never logged, never stored with a delivery."""
from __future__ import annotations

from shared.pii import Vault

from ..documents import Contact


class Addresses:
    def __init__(self, vault: Vault):
        self.vault = vault

    def _field(self, member_id: str | None, name: str) -> str | None:
        if not member_id:
            return None
        row = Contact._get_collection().find_one({"_id": member_id}, {name: 1}) or {}
        return self.vault.decrypt(row[name]) if row.get(name) else None

    def email(self, member_id: str | None) -> str | None:
        return self._field(member_id, "email_encrypted")

    def phone(self, member_id: str | None) -> str | None:
        return self._field(member_id, "phone_encrypted")


def without(text: str, *secrets: str | None) -> str:
    """An error text with the address (or any other secret) taken out, for the delivery log."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<address>")
    return text[:500]
