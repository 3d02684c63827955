"""The stack as separate processes, driven only over HTTP."""
from __future__ import annotations

import time

import pytest

from tests.helpers import eventually, member_body
from tests.stacks import federation_with_two_branches

pytestmark = pytest.mark.e2e


def test_a_new_member_has_a_welcome_within_two_seconds(http, serial):
    fed, a, _ = federation_with_two_branches(http, serial)
    response = http.post("members", "/api/v1/members", member_body(a, serial + 1), roles="admin", org=a)
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


def test_branch_scope_over_http(http, serial):
    fed, a, b = federation_with_two_branches(http, serial)
    member_b = http.post("members", "/api/v1/members", member_body(b, serial + 2), roles="admin", org=b).json()
    assert http.get("members", f"/api/v1/members/{member_b['id']}", roles="admin", org=a).status_code == 404
    assert http.post("members", "/api/v1/members", member_body(b, serial + 3), roles="admin", org=a).status_code == 404
    assert http.get("members", f"/api/v1/members/{member_b['id']}", roles="admin", org=fed).status_code == 200
    eventually(lambda: http.get("notify", f"/api/v1/inbox?member_id={member_b['id']}", roles="admin",
                                org=b).status_code == 200, timeout=10)
    assert http.get("notify", f"/api/v1/inbox?member_id={member_b['id']}", roles="admin", org=a).status_code == 404
