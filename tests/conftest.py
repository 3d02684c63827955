"""Fixtures for every tier; the real infrastructure starts only when asked for."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from shared import auth
from shared.testing.fixtures import JWT_SECRET, infra, namespace, pii_key, settings_for  # noqa: F401

# kafka-python's network threads can outlive a test's client and log after pytest
# has closed the captured stream; don't print logging's own tracebacks for that.
logging.raiseExceptions = False

# Valid GB 11643 numbers (check digits computed), used across tests.
VALID_ID_NUMBERS = ["11010519491231002X", "110101199003074477"]


@pytest.fixture
def token():
    def make(roles, org=None, sub=None, ttl=timedelta(hours=1)):
        roles = [roles] if isinstance(roles, str) else roles
        return auth.mint(JWT_SECRET, sub or f"{roles[0]}:{org}", roles, org, ttl)
    return make


@pytest.fixture
def bearer(token):
    def make(roles, org=None, sub=None):
        return {"Authorization": f"Bearer {token(roles, org, sub)}"}
    return make
