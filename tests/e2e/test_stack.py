"""The stack as separate processes, driven only over HTTP."""
from __future__ import annotations

import time

import pytest
from pymongo import MongoClient

from tests.helpers import eventually, grassroots, member_body

pytestmark = pytest.mark.e2e


def _branches(http):
    fed = http.post("members", "/api/v1/orgs", {"name": "市总工会", "kind": "federation"}, roles="operator").json()["id"]
    a = http.post("members", "/api/v1/orgs", grassroots("甲公司工会", fed, 1), roles="admin", org=fed).json()["id"]
    b = http.post("members", "/api/v1/orgs", grassroots("乙公司工会", fed, 2), roles="admin", org=fed).json()["id"]
    return fed, a, b


def test_a_new_member_has_a_welcome_within_two_seconds(http):
    fed, a, _ = _branches(http)
    response = http.post("members", "/api/v1/members", member_body(a, 1), roles="admin", org=a)
    assert response.status_code == 201
    member = response.json()
    registered = time.monotonic()

    def welcome():
        items = http.get("notify", f"/api/v1/inbox?member_id={member['id']}", roles="admin", org=a)
        return items.status_code == 200 and items.json()["items"]

    items = eventually(welcome, timeout=2.0, interval=0.05, message="welcome in inbox")
    assert time.monotonic() - registered < 2.0
    assert items[0]["title"] == "欢迎加入工会"
    own = http.get("notify", f"/api/v1/inbox?member_id={member['id']}", roles="member", org=a, sub=member["id"])
    assert own.status_code == 200 and len(own.json()["items"]) == 1


def test_branch_scope_over_http(http):
    fed, a, b = _branches(http)
    member_b = http.post("members", "/api/v1/members", member_body(b, 2), roles="admin", org=b).json()
    assert http.get("members", f"/api/v1/members/{member_b['id']}", roles="admin", org=a).status_code == 404
    assert http.post("members", "/api/v1/members", member_body(b, 3), roles="admin", org=a).status_code == 404
    assert http.get("members", f"/api/v1/members/{member_b['id']}", roles="admin", org=fed).status_code == 200
    eventually(lambda: http.get("notify", f"/api/v1/inbox?member_id={member_b['id']}", roles="admin",
                                org=b).status_code == 200, timeout=10)
    assert http.get("notify", f"/api/v1/inbox?member_id={member_b['id']}", roles="admin", org=a).status_code == 404


def test_exactly_one_welcome_each_even_when_notify_is_killed_midway(http, stack, namespace):
    fed, a, _ = _branches(http)
    stack.workers["notify"].stop()
    ids = []
    for n in range(100):
        response = http.post("members", "/api/v1/members", member_body(a, n), roles="admin", org=a)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    inbox = MongoClient(stack.env()["GONGHUI_MONGO_URL"])[f"{namespace}notify"]["inbox_messages"]
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
