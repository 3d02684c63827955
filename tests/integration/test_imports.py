"""Roster imports from real CSV and XLSX files: report, batches, idempotency; the file encrypted and
short-lived, a report without personal data, bounded work whatever the file claims."""
from __future__ import annotations

import csv
import io
import time
from datetime import timedelta

import pytest
from bson import ObjectId
from openpyxl import Workbook

from services.members import imports
from services.members.documents import ImportChunk, ImportJob, Member
from shared.events.envelope import utcnow
from shared.events.outbox import pending_events
from tests.helpers import id_number

pytestmark = pytest.mark.integration

HEADER = ["姓名", "性别", "身份证号", "手机号", "用工形式", "岗位"]


def keys_of(client):
    """The members app's personal-data vault and contact seal, as the worker builds them."""
    extensions = client.application.extensions
    return extensions["gonghui.vault"], extensions["gonghui.contact_seal"]


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
    assert imports.process_pending(*keys_of(members)) == 1
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
    imports.process_pending(*keys_of(members))
    second = members.get(f"/api/v1/imports/{again['id']}", headers=admin).json
    assert second["imported"] == 0 and second["already_registered"] == 116  # the same file twice: nothing changes
    assert Member.objects(org_id=tree["a"]).count() == 116


def test_an_xlsx_roster_in_english(members, tree, bearer):
    admin = bearer("admin", tree["b"])
    rows = [["name", "gender", "id_number", "phone", "employment_type"],
            ["Li Lei", "male", id_number(1, birth="19920202"), "13911112222", "gig"],
            ["Han Meimei", "female", id_number(2, birth="19920202"), "13911113333", "dispatched"]]
    job_id = upload(members, admin, tree["b"], xlsx_bytes(rows), "roster.xlsx").json["id"]
    imports.process_pending(*keys_of(members))
    job = members.get(f"/api/v1/imports/{job_id}", headers=admin).json
    assert (job["status"], job["imported"], job["error_count"]) == ("done", 2, 0)
    assert {m.employment_type for m in Member.objects(org_id=tree["b"])} == {"gig", "dispatched"}


def test_bad_files_and_scope(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    missing_column = upload(members, admin, tree["a"], csv_bytes([["姓名", "性别"], ["张三", "男"]]), "x.csv").json
    imports.process_pending(*keys_of(members))
    job = members.get(f"/api/v1/imports/{missing_column['id']}", headers=admin).json
    assert job["status"] == "failed" and "id_number" in job["failure"]
    assert upload(members, admin, tree["b"], csv_bytes(roster(2)), "x.csv").status_code == 404
    empty = upload(members, admin, tree["a"], b"", "x.csv")  # accepted; the job says what is wrong with it
    assert empty.status_code == 202
    imports.process_pending(*keys_of(members))
    failed = members.get(f"/api/v1/imports/{empty.json['id']}", headers=admin).json
    assert failed["status"] == "failed" and "empty" in failed["failure"]
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
    vault = Vault(new_key())
    raw = imports._member_document(row, vault.fingerprint(row.id_number), "GH202600000007", org, job, vault,
                                   Vault(new_key()), utcnow())
    member = Member._from_son(raw)
    member.validate()
    assert member.to_mongo().to_dict() == raw
    assert [e.type for e in member.outbox] == ["gonghui.members.contact.changed", "gonghui.members.member.joined"]


# --- personal data: the file encrypted and short-lived, the report without values ---------------------------

def chunks_of(job_id: str) -> list[bytes]:
    return [doc["data"] for doc in ImportChunk._get_collection().find({"_id": {"$regex": f"^{job_id}:"}})]


def test_the_uploaded_file_is_held_encrypted_and_only_until_its_job_ends(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    vault, seal = keys_of(members)
    rows = roster(3)
    done = upload(members, admin, tree["a"], csv_bytes(rows), "名册.csv").json["id"]
    failed = upload(members, admin, tree["a"], csv_bytes([["姓名", "性别"], rows[1][:2]]), "x.csv").json["id"]
    for job_id in (done, failed):
        stored = b"".join(chunks_of(job_id))
        assert stored and rows[1][2].encode() not in stored and rows[1][3].encode() not in stored
        assert "职工".encode() not in stored and "职工".encode("gb18030") not in stored
    assert imports.process_pending(vault, seal) == 2
    assert ImportJob.objects(pk=done).first().status == "done"
    assert ImportJob.objects(pk=failed).first().status == "failed"
    assert chunks_of(done) == [] and chunks_of(failed) == []  # deleted as soon as the job ends


def test_jobs_not_ended_in_24_hours_are_failed_and_files_outliving_their_job_deleted(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    old, fresh, ended = (upload(members, admin, tree["a"], csv_bytes(roster(2)), "x.csv").json["id"]
                         for _ in range(3))
    ImportJob.objects(pk=old).update_one(set__created_at=utcnow() - timedelta(hours=25))
    ImportJob.objects(pk=ended).update_one(set__status="done")  # its worker died before deleting the file
    orphan = ImportChunk(id=f"{ObjectId.from_datetime(utcnow() - timedelta(hours=2))}:0", data=b"x").save()
    young = ImportChunk(id=f"{ObjectId()}:0", data=b"x").save()  # an upload still being stored
    assert imports.sweep() == 1
    job = ImportJob.objects(pk=old).first()
    assert job.status == "failed" and "24 h" in job.failure and job.finished_at
    assert chunks_of(old) == [] and chunks_of(ended) == [] and chunks_of(fresh) != []
    assert not ImportChunk.objects(pk=orphan.pk).first() and ImportChunk.objects(pk=young.pk).first()
    assert ImportJob.objects(pk=fresh).first().status == "queued"


def test_swapped_columns_never_put_an_id_number_or_phone_in_the_report(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    rows = roster(6)
    people = [list(row) for row in rows[1:4]]
    rows[1] = [people[0][0], people[0][1], people[0][3], people[0][2], people[0][4]]  # ID number ⇄ phone
    rows[2] = [people[1][0], people[1][2], people[1][1], people[1][3], people[1][4]]  # gender ⇄ ID number
    rows[3] = [people[2][0], people[2][1], people[2][2], people[2][4], people[2][3]]  # phone ⇄ employment
    job_id = upload(members, admin, tree["a"], csv_bytes(rows), "名册.csv").json["id"]
    imports.process_pending(*keys_of(members))
    response = members.get(f"/api/v1/imports/{job_id}", headers=admin)
    job = response.json
    assert job["status"] == "done" and job["imported"] == 3
    assert [(e["line"], e["field"]) for e in job["errors"]] == [(2, "id_number"), (3, "gender"),
                                                               (4, "employment_type")]
    text = response.get_data(as_text=True)
    for person in people:
        assert person[2] not in text and person[3] not in text  # neither the ID number nor the phone
    listed = members.get("/api/v1/imports", headers=admin).get_data(as_text=True)
    assert all(person[2] not in listed and person[3] not in listed for person in people)


# --- resource exhaustion ------------------------------------------------------------------------------------

def test_a_sheet_claiming_a_million_rows_fails_in_a_moment_naming_the_limit(members, tree, bearer):
    from tests.unit.test_roster import BOMB

    admin = bearer("admin", tree["a"])
    accepted = upload(members, admin, tree["a"], BOMB, "名册.xlsx")
    assert accepted.status_code == 202, accepted.json
    started = time.monotonic()
    assert imports.process_pending(*keys_of(members)) == 1
    assert time.monotonic() - started < 10  # it was about 20 minutes of CPU
    job = members.get(f"/api/v1/imports/{accepted.json['id']}", headers=admin).json
    assert job["status"] == "failed" and "200,000 rows" in job["failure"] and job["imported"] == 0
    assert chunks_of(accepted.json["id"]) == []


def test_a_shared_strings_bomb_is_refused_on_upload(members, tree, bearer):
    from tests.unit.test_roster import MAIN, handmade_xlsx, sheet

    admin = bearer("admin", tree["a"])
    strings = f'<sst xmlns="{MAIN}">'.encode() + b"<si><t>a</t></si>" * 2_000_000 + b"</sst>"
    refused = upload(members, admin, tree["a"], handmade_xlsx(sheet({1: ["姓名"]}), strings), "名册.xlsx")
    assert refused.status_code == 422 and "file" in refused.json["error"]["fields"]
    assert "sharedStrings.xml" in refused.json["error"]["message"]
    assert ImportJob.objects(org_id=tree["a"]).count() == 0 and ImportChunk.objects.count() == 0


def test_a_job_whose_worker_keeps_dying_is_failed_after_three_attempts(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    vault, seal = keys_of(members)
    long_ago = utcnow() - imports.STALE_AFTER - timedelta(seconds=1)
    retried, exhausted = (upload(members, admin, tree["a"], csv_bytes(roster(2)), "x.csv").json["id"]
                          for _ in range(2))
    ImportJob.objects(pk=retried).update_one(set__status="running", set__attempts=2, set__heartbeat_at=long_ago)
    ImportJob.objects(pk=exhausted).update_one(set__status="running", set__attempts=3, set__heartbeat_at=long_ago)
    assert imports.process_pending(vault, seal) == 1
    job = ImportJob.objects(pk=exhausted).first()
    assert job.status == "failed" and "3 times" in job.failure and chunks_of(exhausted) == []
    again = ImportJob.objects(pk=retried).first()
    assert (again.status, again.attempts, again.imported) == ("done", 3, 2)


def test_a_worker_whose_job_was_taken_from_it_stops(members, tree, bearer, monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 2)
    admin = bearer("admin", tree["a"])
    vault, seal = keys_of(members)
    job_id = upload(members, admin, tree["a"], csv_bytes(roster(6)), "x.csv").json["id"]
    job = imports.claim_next()
    ImportJob.objects(pk=job_id).update_one(inc__attempts=1)  # another worker took it up meanwhile
    with pytest.raises(imports._Superseded):
        imports.run(job, vault, seal)
    assert ImportJob.objects(pk=job_id).first().status == "running" and chunks_of(job_id) != []


def test_a_write_that_fails_fails_the_job_and_no_later_batch_is_written(members, tree, bearer, monkeypatch):
    """Batches are written in a thread while the next is built: a failed write still ends the import there,
    and the batches written before it stay, counted (taking the job up again would count them as
    already registered)."""
    monkeypatch.setattr(imports, "BATCH", 10)
    write, calls = imports._write, []

    def failing_second(docs, hold):
        calls.append(len(docs))
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return write(docs, hold)

    monkeypatch.setattr(imports, "_write", failing_second)
    admin = bearer("admin", tree["a"])
    job_id = upload(members, admin, tree["a"], csv_bytes(roster(45)), "x.csv").json["id"]
    assert imports.process_pending(*keys_of(members)) == 1
    job = ImportJob.objects(pk=job_id).first()
    assert job.status == "failed" and "RuntimeError" in job.failure
    assert calls == [10, 10] and Member.objects(org_id=tree["a"]).count() == 10
    assert job.imported == 10 and chunks_of(job_id) == []


def test_a_parser_error_quoting_a_cell_reaches_neither_the_job_nor_the_log(members, tree, bearer, caplog):
    from tests.unit.test_roster import MAIN, handmade_xlsx

    admin = bearer("admin", tree["a"])
    secret = "11010519491231002X"
    header = "".join(f'<c r="{c}1" t="inlineStr"><is><t>{h}</t></is></c>' for c, h in zip("ABCDE", HEADER, strict=False))
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData><row r="1">{header}</row>'
             f'<row r="2"><c r="C2" t="n"><v>{secret}</v></c></row></sheetData></worksheet>')  # not a number
    job_id = upload(members, admin, tree["a"], handmade_xlsx(sheet), "名册.xlsx").json["id"]
    imports.process_pending(*keys_of(members))
    response = members.get(f"/api/v1/imports/{job_id}", headers=admin)
    assert response.json["status"] == "failed" and "ValueError" in response.json["failure"]
    assert secret not in response.get_data(as_text=True)
    assert "import failed" in caplog.text and secret not in caplog.text
    assert all(secret not in str(vars(record)) for record in caplog.records)


def test_an_import_s_events_wait_for_its_end(members, tree, bearer, monkeypatch):
    """The members' events are held back while the import runs (the pipeline does not compete with it)
    and handed to the relay when it ends."""
    from shared.events.outbox import _pointers, _releases

    monkeypatch.setattr(imports, "BATCH", 10)
    admin = bearer("admin", tree["a"])
    vault, seal = keys_of(members)
    job_id = upload(members, admin, tree["a"], csv_bytes(roster(35)), "x.csv").json["id"]
    job = imports.claim_next()
    held, due = [], []

    def progress(_rows):
        held.append(_pointers(Member).count_documents({"held_by": f"import:{job_id}"}))
        due.append(_pointers(Member).count_documents({"collection": "members", "due": {"$lte": utcnow()}}))

    assert imports.run(job, vault, seal, progress=progress).imported == 35
    assert held == sorted(held) and held[-1] == 35 and set(due) == {0}  # all written, none sent yet
    assert _releases(Member).find_one({"_id": f"import:{job_id}"}) is not None  # handed to the relay
