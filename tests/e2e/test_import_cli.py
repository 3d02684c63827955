"""`gonghui members import` against the running stack: upload, progress, report."""
from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest

from tests.helpers import eventually, grassroots, id_number

pytestmark = pytest.mark.e2e

SWAPPED_ID, SWAPPED_PHONE = id_number(77, birth="19960606"), "13399990077"


def test_the_cli_imports_a_roster_and_prints_the_report(http, stack, tmp_path, serial):
    fed = http.post("members", "/api/v1/orgs", {"name": "市总工会", "kind": "federation"}, roles="operator").json()["id"]
    branch = http.post("members", "/api/v1/orgs", grassroots("某物流公司工会", fed, serial), roles="operator").json()["id"]
    roster = tmp_path / "名册.csv"
    with open(roster, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "性别", "身份证号", "手机号", "用工形式"])
        for i in range(30):
            writer.writerow([f"骑手{i}", "男", id_number(i, birth="19950505"), f"133{i:08d}", "新就业形态"])
        writer.writerow(["坏行", "男", "123", "13300000000", "新就业形态"])
        # columns in the wrong place: the report names line and field, never the ID number or phone
        writer.writerow(["错列一", SWAPPED_ID, "男", SWAPPED_PHONE, "新就业形态"])
        writer.writerow(["错列二", "男", SWAPPED_ID, "新就业形态", SWAPPED_PHONE])
    token = http.headers("admin", org=branch)["Authorization"].split()[1]
    env = {**os.environ, "GONGHUI_TOKEN": token, "GONGHUI_MEMBERS_URL": stack.url("members")}
    result = subprocess.run([sys.executable, "-m", "shared.cli", "members", "import", str(roster), "--org", branch],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "done: 30 imported, 0 already registered, 3 rows with errors" in result.stdout
    assert "line 32: id_number:" in result.stdout
    assert "line 33: gender:" in result.stdout and "line 34: employment_type:" in result.stdout
    assert SWAPPED_ID not in result.stdout + result.stderr and SWAPPED_PHONE not in result.stdout + result.stderr
    assert "rows" in result.stderr  # the tqdm progress bar
    listed = http.get("members", f"/api/v1/members?org_id={branch}&employment_type=gig&limit=100",
                      roles="admin", org=branch).json()["items"]
    assert len(listed) == 30
    eventually(lambda: http.get("notify", f"/api/v1/inbox?member_id={listed[0]['id']}", roles="admin",
                                org=branch).status_code == 200, timeout=30, message="welcome for an imported member")
