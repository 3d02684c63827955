"""examples/members_table: the subscriber an HR system would start from, run against the real stack."""
from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
import requests

from shared.localinfra.cache import REPO_ROOT
from tests.helpers import eventually, member_body
from tests.stacks import federation_with_two_branches

pytestmark = pytest.mark.e2e

SUBSCRIBER = REPO_ROOT / "examples" / "members_table" / "subscriber.py"


def _run(stack, db, group):
    topic = stack.extra_env["GONGHUI_TOPIC_PREFIX"] + "gonghui.members.v1"
    done = subprocess.run([sys.executable, str(SUBSCRIBER), "--bootstrap", f"127.0.0.1:{stack.kafka_port}",
                           "--topic", topic, "--group", group, "--db", str(db), "--idle-exit", "4"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT member_id, name, status, card_no, org_id, version FROM members")}


def test_the_example_keeps_a_table_of_members_and_a_replay_changes_nothing(http, stack, tmp_path, serial):
    _fed, a, b = federation_with_two_branches(http, serial)
    first = http.post("members", "/api/v1/members", member_body(a, serial + 1), roles="admin", org=a).json()
    second = http.post("members", "/api/v1/members", member_body(b, serial + 2), roles="admin", org=b).json()
    renamed = requests.patch(f"{stack.url('members')}/api/v1/members/{first['id']}", json={"name": "王小明"},
                             headers=http.headers("admin", org=a), timeout=10)
    assert renamed.status_code == 200
    left = http.post("members", f"/api/v1/members/{second['id']}/status", {"action": "leave", "reason": "voluntary"},
                     roles="admin", org=b)
    assert left.status_code == 200
    db = tmp_path / "members.sqlite"

    def caught_up():
        table = _run(stack, db, "hr-test")
        return table if table.get(second["id"], (None, None))[1] == "left" and \
            table.get(first["id"], ("",))[0] == "王小明" else None

    table = eventually(caught_up, timeout=60, interval=0.5, message="the table has every change")
    assert table[first["id"]] == ("王小明", "active", first["card_no"], a, renamed.json()["version"])
    assert table[second["id"]][1:4] == ("left", second["card_no"], b)

    # The same events again from the start (a new group replays the topic): no row changes.
    assert _run(stack, db, "hr-test-replay") == table
    with sqlite3.connect(db) as conn:
        columns = [c[1] for c in conn.execute("PRAGMA table_info(members)")]
    assert not {"id_number", "phone"} & set(columns)
