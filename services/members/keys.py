"""The members service's keys: personal data at rest (rotatable, with a fingerprint key that never
rotates) and the seal on contact events, which only notify can open."""
from __future__ import annotations

from shared.config import Settings
from shared.pii import Vault

from .documents import Member


def pii_vault(settings: Settings) -> Vault:
    return Vault(settings.pii_key, settings.fingerprint_key)


def vaults(settings: Settings) -> tuple[Vault, Vault]:
    """(personal data vault, contact seal)."""
    return pii_vault(settings), Vault(settings.contact_keys, what="GONGHUI_CONTACT_KEYS")


# what `gonghui rotate-keys members` re-encrypts (uploaded rosters are deleted when their import ends)
ENCRYPTED = [(Member, ("id_number_encrypted", "phone_encrypted", "email_encrypted"))]
