"""A notify worker stopped while members register, then killed (SIGKILL) midway through delivering their
welcomes, then started again: every member has exactly one welcome."""
from __future__ import annotations

import time

import pytest

from tests.helpers import eventually, member_body
from tests.stacks import Http, database, federation_with_two_branches, new_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(infra, tmp_path, namespace):
    s = new_stack(infra, tmp_path / "stack", namespace, env={"GONGHUI_CONSUMER_BATCH": "1"})
    s.start_services()
    yield s
    s.stop()


@pytest.fixture
def http(stack):
    return Http(stack)


def test_exactly_one_welcome_each_even_when_notify_is_killed_midway(stack, http):
    fed, a, _ = federation_with_two_branches(http, 0)
    stack.workers["notify"].stop()
    ids = []
    for n in range(100):
        response = http.post("members", "/api/v1/members", member_body(a, n), roles="admin", org=a)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    inbox = database(stack, "notify")["inbox_messages"]
    assert inbox.count_documents({"member_id": {"$in": ids}}) == 0

    stack.start_worker("notify")
    eventually(lambda: inbox.count_documents({"member_id": {"$in": ids}}) > 0, timeout=30, interval=0.01,
               message="notify started delivering")
    stack.workers["notify"].kill()  # SIGKILL: no shutdown, no final commit
    at_kill = inbox.count_documents({"member_id": {"$in": ids}})
    assert 0 < at_kill < 100, f"kill came too late to test anything ({at_kill})"

    stack.start_worker("notify")
    eventually(lambda: inbox.count_documents({"member_id": {"$in": ids}}) >= 100, timeout=60,
               message="all welcomes delivered")
    time.sleep(2)  # anything duplicated would land now
    assert inbox.count_documents({"member_id": {"$in": ids}}) == 100
    for member_id in ids:
        items = http.get("notify", f"/api/v1/inbox?member_id={member_id}", roles="admin", org=a).json()["items"]
        assert len(items) == 1, member_id
