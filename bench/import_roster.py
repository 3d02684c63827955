"""Roster import: N rows of CSV (default 100,000) through the import job, as
the members worker runs it, against FerretDB.

    .venv/bin/python bench/import_roster.py [N]

Baseline in the same run: registering members one by one through
POST /api/v1/members (500 of them), to show what the batched import buys.
"""
from __future__ import annotations

import csv
import io
import sys
import tempfile
import time
from pathlib import Path

from bson import ObjectId

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.members import create_app, imports  # noqa: E402
from services.members.documents import Member, Organisation  # noqa: E402
from shared import auth  # noqa: E402
from shared.config import Settings  # noqa: E402
from shared.localinfra.ferretdb import FerretDB  # noqa: E402
from shared.localinfra.process import free_port  # noqa: E402
from shared.pii import new_key  # noqa: E402
from tests.helpers import credit_code, id_number, member_body  # noqa: E402

SECRET = "bench-" + "s" * 40


def roster_csv(n: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["姓名", "性别", "身份证号", "手机号", "用工形式", "岗位"])
    for i in range(n):
        birth = f"19{60 + i // 1000 % 40:02d}{1 + i // 40000 % 12:02d}01"
        writer.writerow([f"职工{i}", "女" if i % 2 else "男", id_number(i, birth=birth), f"136{i:08d}",
                         "农民工" if i % 3 else "合同", "操作工"])
    return out.getvalue().encode("utf-8")


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ferret = FerretDB(Path(tmp) / "ferretdb", free_port()).start()
        try:
            settings = Settings(service="members", mongo_url=ferret.url, jwt_secret=SECRET, pii_key=new_key(),
                                kafka_bootstrap="127.0.0.1:9", log_level="WARNING")
            app = create_app(settings)
            vault = app.extensions["gonghui.vault"]
            fed, branch = ObjectId(), ObjectId()
            Organisation(id=fed, name="总工会", kind="federation", path=[str(fed)]).save(force_insert=True)
            Organisation(id=branch, name="某集团工会", kind="grassroots", parent_id=str(fed),
                         path=[str(fed), str(branch)], credit_code=credit_code(1), headcount=200_000
                         ).save(force_insert=True)
            content = roster_csv(n)
            job = imports.new_job(Organisation.objects(pk=branch).first(), "roster.csv", content, "bench")
            started = time.perf_counter()
            job = imports.run(job, vault)
            elapsed = time.perf_counter() - started
            assert job.imported == n and job.error_count == 0, (job.imported, job.error_count)
            print(f"import of {n} CSV rows ({len(content) / 2**20:.1f} MiB):       {elapsed:8.1f} s "
                  f"({n / elapsed:,.0f} rows/s)")
            started = time.perf_counter()
            again = imports.run(imports.new_job(Organisation.objects(pk=branch).first(), "roster.csv", content,
                                                "bench"), vault)
            print(f"the same file again (nothing changes):       {time.perf_counter() - started:8.1f} s "
                  f"({again.imported} imported, {again.already_registered} already registered)")
            client = app.test_client()
            headers = {"Authorization": "Bearer " + auth.mint(SECRET, "op", ["operator"])}
            started = time.perf_counter()
            for i in range(500):
                body = member_body(str(branch), i, id_number=id_number(i, birth="20000101"), phone=f"135{i:08d}")
                assert client.post("/api/v1/members", json=body, headers=headers).status_code == 201
            single = 500 / (time.perf_counter() - started)
            print(f"baseline, one POST /api/v1/members at a time: {single:8.0f} members/s")
            print(f"ratio import / one at a time:                {n / elapsed / single:8.1f}x")
            assert Member.objects.count() == n + 500
        finally:
            ferret.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
