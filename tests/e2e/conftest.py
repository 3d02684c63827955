"""One stack for every test here: its sixteen processes take 13 to 16 s to start on two cores, so each
test starting its own spent two minutes of the suite on starts alone. Tests share its database and
topics, so each makes its own federation and numbers its people (ID numbers, phones, credit codes, all
unique) from its own ``serial``. Tests that stop, kill, restart or scale processes are in
tests/lifecycle, each with a stack of its own."""
from __future__ import annotations

import itertools
import uuid
from pathlib import Path

import pytest

from tests.stacks import Http, new_stack

_blocks = itertools.count(1)


@pytest.fixture(scope="package")
def stack(infra, tmp_path_factory):
    """The four services as separate gunicorn + worker processes on the session's real Kafka and FerretDB."""
    s = new_stack(infra, tmp_path_factory.mktemp("stack"), f"t{uuid.uuid4().hex[:10]}_",
                  env={"GONGHUI_CONSUMER_BATCH": "1"})
    s.start_services()
    yield s
    s.stop()


@pytest.fixture
def serial():
    """The first of the 1,000 numbers this test alone uses for the people and unions it makes."""
    return next(_blocks) * 1000


@pytest.fixture
def http(stack):
    return Http(stack)


def pytest_collection_modifyitems(items):
    """Schemathesis runs after the other tests on the shared stack: the data it makes and the work it
    queues reach none of them."""
    here = Path(__file__).parent
    fuzz = [item for item in items if item.path.parent == here and item.path.name == "test_schemathesis.py"]
    rest = [item for item in items if item not in fuzz]
    ours = [n for n, item in enumerate(rest) if item.path.parent == here]
    if fuzz and ours:
        items[:] = rest[:ours[-1] + 1] + fuzz + rest[ours[-1] + 1:]
