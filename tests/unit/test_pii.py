"""Keys: newest first, every one decrypts, rotation re-encrypts, fingerprints never move."""
import pytest
from cryptography.fernet import InvalidToken

from shared.pii import Vault, new_key, parse_keys


def test_the_first_key_encrypts_and_every_key_decrypts():
    old, new = new_key(), new_key()
    before = Vault(old).encrypt("13800001111")
    both = Vault(f"{new},{old}")
    assert both.decrypt(before) == "13800001111"
    rotated = both.rotate(before)
    assert Vault(new).decrypt(rotated) == "13800001111"
    with pytest.raises(InvalidToken):
        Vault(old).decrypt(rotated)
    assert parse_keys(f" {new}, ,{old} ") == [new, old]


def test_fingerprints_stay_the_same_when_encryption_keys_rotate():
    old, new, mac = new_key(), new_key(), "f" * 48
    assert Vault(old, mac).fingerprint("110") == Vault(f"{new},{old}", mac).fingerprint("110") \
        == Vault(new, mac).fingerprint("110")
    # without a fingerprint key (deployments from before it existed) it comes from the oldest key
    assert Vault(old).fingerprint("110") == Vault(f"{new},{old}").fingerprint("110")
    assert Vault(old).fingerprint("110") != Vault(old, mac).fingerprint("110")


def test_a_vault_needs_a_key():
    with pytest.raises(RuntimeError, match="GONGHUI_CONTACT_KEYS"):
        Vault("", what="GONGHUI_CONTACT_KEYS")
