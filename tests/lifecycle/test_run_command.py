"""`gonghui run` (what `make run` starts): everything up, a usable admin
token printed, Ctrl-C stops it all, and a second run finds the first's data."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from shared.localinfra.process import free_port, port_open
from tests.helpers import eventually, grassroots, member_body

pytestmark = pytest.mark.e2e


def _start(env):
    proc = subprocess.Popen([sys.executable, "-m", "shared.cli", "run"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C stops everything" in line:
            return proc, "".join(lines)
    proc.kill()
    raise AssertionError("gonghui run did not come up:\n" + "".join(lines))


def _stop(proc):
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=90) is not None


def test_run_prints_a_working_token_and_restarts_on_its_data(tmp_path):
    ports = {name: free_port() for name in ("KAFKA", "KAFKA_CONTROLLER", "MONGO", "MEMBERS", "EVENTS",
                                            "WELFARE", "NOTIFY")}
    env = {**os.environ, "GONGHUI_DATA_DIR": str(tmp_path / "data"), "GONGHUI_LOG_LEVEL": "WARNING",
           **{f"GONGHUI_{name}_PORT": str(port) for name, port in ports.items()}}
    env.pop("GONGHUI_JWT_SECRET", None)
    proc, out = _start(env)
    try:
        token = re.search(r"admin token \(federation\):\n(\S+)", out).group(1)
        branch = re.search(r"branch (\w+)", out).group(1)
        members = f"http://127.0.0.1:{ports['MEMBERS']}"
        notify = f"http://127.0.0.1:{ports['NOTIFY']}"
        headers = {"Authorization": f"Bearer {token}"}
        # the printed token creates a branch and registers a member there
        new_branch = requests.post(f"{members}/api/v1/orgs", headers=headers, timeout=10, json=grassroots(
            "新建公司工会", re.search(r"demo federation (\w+)", out).group(1), 77))
        assert new_branch.status_code == 201, new_branch.text
        member = requests.post(f"{members}/api/v1/members", json=member_body(new_branch.json()["id"], 5),
                               headers=headers, timeout=10).json()
        eventually(lambda: requests.get(f"{notify}/api/v1/inbox?member_id={member['id']}", headers=headers,
                                        timeout=5).json().get("items"), timeout=2, interval=0.05)
    finally:
        _stop(proc)
    assert not any(port_open("127.0.0.1", p) for p in ports.values())  # Ctrl-C stopped everything

    proc, out2 = _start(env)
    try:
        assert re.search(r"branch (\w+)", out2).group(1) == branch  # same demo data, not seeded again
        token2 = re.search(r"admin token \(federation\):\n(\S+)", out2).group(1)
        again = requests.get(f"http://127.0.0.1:{ports['MEMBERS']}/api/v1/members/{member['id']}",
                             headers={"Authorization": f"Bearer {token2}"}, timeout=10)
        assert again.status_code == 200 and again.json()["card_no"] == member["card_no"]
    finally:
        _stop(proc)
