"""Roster imports from real CSV and XLSX files: report, batches, idempotency."""
from __future__ import annotations

import csv
import io

import pytest
from bson import ObjectId
from openpyxl import Workbook

from services.members import imports
from services.members.documents import ImportJob, Member
from shared.events.outbox import pending_events
from tests.helpers import id_number

pytestmark = pytest.mark.integration

HEADER = ["姓名", "性别", "身份证号", "手机号", "用工形式", "岗位"]


def roster(n: int, bad: dict[int, list] | None = None) -> list[list[str]]:
    rows = [HEADER]
    for i in range(n):
        rows.append((bad or {}).get(i) or [f"职工{i}", "女" if i % 2 else "男", id_number(i, birth="19850101"),
                                           f"137{i:08d}", "农民工" if i % 3 else "合同", "操作工"])
    return rows


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(members, headers, org_id, content, name):
    return members.post("/api/v1/imports", data={"org_id": org_id, "file": (io.BytesIO(content), name)},
                        headers=headers, content_type="multipart/form-data")


def test_a_csv_roster_is_imported_with_a_report_of_every_bad_row(members, tree, bearer, monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 40)  # several batches
    admin = bearer("admin", tree["a"])
    bad = {3: ["李四", "男", "110101199001010010", "13700000003", "合同", ""],
           7: ["王五", "男", id_number(8, birth="19850101"), "13700000007", "合同", ""],  # same person as row 8
           50: ["", "女", id_number(50, birth="19850101"), "13700000050", "合同", ""],
           99: ["赵六", "女", id_number(99, birth="19850101"), "12345", "合同", ""]}
    response = upload(members, admin, tree["a"], csv_bytes(roster(120, bad), "gb18030"), "名册.csv")
    assert response.status_code == 202, response.json
    assert imports.process_pending(members.application.extensions["gonghui.vault"]) == 1
    job = members.get(f"/api/v1/imports/{response.json['id']}", headers=admin).json
    assert job["status"] == "done" and job["rows_total"] == 120
    assert job["imported"] == 116 and job["already_registered"] == 0 and job["error_count"] == 4
    assert [(e["line"], e["field"]) for e in job["errors"]] == [(5, "id_number"), (10, "id_number"), (52, "name"),
                                                               (101, "phone")]
    assert "line 9" in job["errors"][1]["reason"]
    assert Member.objects(org_id=tree["a"]).count() == 116
    sample = Member.objects(org_id=tree["a"]).first()
    assert sample.card_no and [e.type for e in pending_events(Member, sample.pk)] == [
        "gonghui.members.contact.changed", "gonghui.members.member.joined"]

    again = upload(members, admin, tree["a"], csv_bytes(roster(120, bad), "gb18030"), "名册.csv").json
    imports.process_pending(members.application.extensions["gonghui.vault"])
    second = members.get(f"/api/v1/imports/{again['id']}", headers=admin).json
    assert second["imported"] == 0 and second["already_registered"] == 116  # the same file twice: nothing changes
    assert Member.objects(org_id=tree["a"]).count() == 116


def test_an_xlsx_roster_in_english(members, tree, bearer):
    admin = bearer("admin", tree["b"])
    rows = [["name", "gender", "id_number", "phone", "employment_type"],
            ["Li Lei", "male", id_number(1, birth="19920202"), "13911112222", "gig"],
            ["Han Meimei", "female", id_number(2, birth="19920202"), "13911113333", "dispatched"]]
    job_id = upload(members, admin, tree["b"], xlsx_bytes(rows), "roster.xlsx").json["id"]
    imports.process_pending(members.application.extensions["gonghui.vault"])
    job = members.get(f"/api/v1/imports/{job_id}", headers=admin).json
    assert (job["status"], job["imported"], job["error_count"]) == ("done", 2, 0)
    assert {m.employment_type for m in Member.objects(org_id=tree["b"])} == {"gig", "dispatched"}


def test_bad_files_and_scope(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    missing_column = upload(members, admin, tree["a"], csv_bytes([["姓名", "性别"], ["张三", "男"]]), "x.csv").json
    imports.process_pending(members.application.extensions["gonghui.vault"])
    job = members.get(f"/api/v1/imports/{missing_column['id']}", headers=admin).json
    assert job["status"] == "failed" and "id_number" in job["failure"]
    assert upload(members, admin, tree["b"], csv_bytes(roster(2)), "x.csv").status_code == 404
    assert upload(members, admin, tree["a"], b"", "x.csv").status_code == 422
    no_file = members.post("/api/v1/imports", data={"org_id": tree["a"]}, headers=admin,
                           content_type="multipart/form-data")
    assert no_file.status_code == 422 and "file" in no_file.json["error"]["fields"]
    assert members.get(f"/api/v1/imports/{missing_column['id']}", headers=bearer("admin", tree["b"])).status_code == 404


def test_rosters_may_be_large_uploads_while_other_bodies_stay_small(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    big = csv_bytes(roster(60_000))  # about 3.4 MB, over the 2 MiB that bounds every other body
    assert len(big) > 3 * 2**20
    accepted = upload(members, admin, tree["a"], big, "roster.csv")
    assert accepted.status_code == 202, accepted.json
    assert ImportJob.objects(pk=accepted.json["id"]).first().size == len(big)
    refused = members.post("/api/v1/members", data=b"{" + b" " * (3 * 2**20) + b"}", headers=admin,
                           content_type="application/json")
    assert refused.status_code == 413 and refused.json["error"]["code"] == "too_large"


def test_an_imported_member_document_has_exactly_the_shape_the_model_writes(members, tree):
    """Imports write raw documents for speed; they must be what Member.to_mongo() would have written."""
    from datetime import date

    from services.members import domain
    from services.members.documents import Organisation
    from shared.events.envelope import utcnow
    from shared.pii import Vault, new_key

    org = Organisation.objects(pk=tree["a"]).first()
    job = ImportJob(id=ObjectId(), org_id=tree["a"], created_by="admin:x")
    row = domain.RosterRow(line=7, name="王芳", gender="female", id_number=id_number(7), birth=date(1985, 1, 1),
                           phone="13700000007", employment_type="migrant", job="车工", education=None)
    raw = imports._member_document(row, "GH202600000007", org, job, Vault(new_key()), utcnow())
    member = Member._from_son(raw)
    member.validate()
    assert member.to_mongo().to_dict() == raw
    assert [e.type for e in member.outbox] == ["gonghui.members.contact.changed", "gonghui.members.member.joined"]
