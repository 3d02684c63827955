"""The welfare service's key: sensitive details at rest (health, income, household circumstances,
objections), under the same rotatable Fernet keys as members' personal data."""
from __future__ import annotations

from shared.config import Settings
from shared.pii import Vault

from .documents import Application, HardshipFile, Objection


def pii_vault(settings: Settings) -> Vault:
    return Vault(settings.pii_key, settings.fingerprint_key)


# what a key rotation re-encrypts (the replaced details kept in a file's history are not yet among them)
ENCRYPTED = [(HardshipFile, ("details_encrypted", "visit_encrypted")), (Objection, ("text_encrypted",)),
             (Application, ("reason_encrypted",))]
