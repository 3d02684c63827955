"""notify's keys: contact details and webhook secrets at rest, under notify's own keys (never the
members service's)."""
from __future__ import annotations

from shared.config import Settings
from shared.pii import Vault

from .documents import Contact, Webhook


def pii_vault(settings: Settings) -> Vault:
    return Vault(settings.pii_key)


# what `gonghui rotate-keys notify` re-encrypts
ENCRYPTED = [(Contact, ("phone_encrypted", "email_encrypted")), (Webhook, ("secret_encrypted",))]
