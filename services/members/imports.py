"""Roster imports: the worker reads an uploaded CSV or XLSX file, validates
every row, reports each bad row with its line number and reason, and
registers the good rows in batches. Importing the same file again changes
nothing: a person already registered is counted, not registered twice.
A job whose worker died is taken up again and finishes the same way (the rows
its first attempt registered are then counted as already registered)."""
from __future__ import annotations

import csv
import hashlib
import io
import logging
from datetime import datetime, time, timedelta, timezone
from types import SimpleNamespace
from typing import Iterator

from bson import ObjectId
from pymongo.errors import BulkWriteError

from shared.events.envelope import utcnow
from shared.events.outbox import announce_many, pending_event_son, withdraw

from . import domain
from .documents import Counter, ImportChunk, ImportError_, ImportJob, Member, Organisation
from .published import CONTACT_CHANGED, MEMBER_JOINED, contact_changed, member_joined

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
BATCH = 500
MAX_REPORTED = 1000  # errors kept in full on the job; the count is always exact
STALE_AFTER = timedelta(minutes=2)
MAX_FILE_BYTES = 64 * 1024 * 1024


def store_file(job: ImportJob, content: bytes) -> None:
    ImportChunk.objects.insert([ImportChunk(id=f"{job.pk}:{n}", data=content[i:i + CHUNK_BYTES])
                                for n, i in enumerate(range(0, max(len(content), 1), CHUNK_BYTES))],
                               load_bulk=False)


def new_job(org: Organisation, filename: str, content: bytes, created_by: str) -> ImportJob:
    file_format = "xlsx" if filename.lower().endswith(".xlsx") or content[:2] == b"PK" else "csv"
    job = ImportJob(id=ObjectId(), org_id=str(org.pk), org_path=list(org.path), filename=filename,
                    file_format=file_format, sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                    chunks=max(1, -(-len(content) // CHUNK_BYTES)), created_by=created_by, created_at=utcnow())
    store_file(job, content)
    job.save(force_insert=True)
    return job


def _content(job: ImportJob) -> bytes:
    return b"".join(ImportChunk.objects(pk=f"{job.pk}:{n}").first().data for n in range(job.chunks))


def read_rows(content: bytes, file_format: str) -> Iterator[tuple[int, list]]:
    """(line number, cells) for every row, the header being line 1."""
    if file_format == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        for line, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, [("" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))
                         for v in row]
        return
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise domain.DomainError("file", "the CSV file is neither UTF-8 nor GB18030 text")
    yield from enumerate(csv.reader(io.StringIO(text)), start=1)


def claim_next() -> ImportJob | None:
    """A queued job, or a running one whose worker stopped beating."""
    now = utcnow()
    for job in ImportJob.objects(status__in=["queued", "running"]).order_by("id"):
        if job.status == "running" and job.heartbeat_at and job.heartbeat_at > now - STALE_AFTER:
            continue
        if ImportJob.objects(pk=job.pk, status=job.status, heartbeat_at=job.heartbeat_at).update_one(
                set__status="running", set__heartbeat_at=now):
            return ImportJob.objects(pk=job.pk).first()
    return None


def process_pending(vault) -> int:
    done = 0
    while (job := claim_next()) is not None:
        try:
            run(job, vault)
        except domain.DomainError as exc:
            ImportJob.objects(pk=job.pk).update_one(set__status="failed", set__failure=exc.message,
                                                    set__finished_at=utcnow())
        except Exception as exc:
            log.exception("import failed", extra={"job": str(job.pk)})
            ImportJob.objects(pk=job.pk).update_one(set__status="failed", set__failure=type(exc).__name__,
                                                    set__finished_at=utcnow())
        done += 1
    return done


def run(job: ImportJob, vault, progress=None) -> ImportJob:
    org = Organisation.objects(pk=job.org_id).first()
    domain.check_can_hold_members(org.kind, org.status)
    rows = read_rows(_content(job), job.file_format)
    _, header = next(rows, (1, []))
    columns = domain.column_map(header)
    counts = {"rows_total": 0, "imported": 0, "already_registered": 0, "error_count": 0}
    errors: list[ImportError_] = []
    seen: dict[str, int] = {}  # fingerprint -> first line, to report duplicates inside the file
    batch: list[domain.RosterRow] = []

    def error(line, field, reason):
        counts["error_count"] += 1
        if len(errors) < MAX_REPORTED:
            errors.append(ImportError_(line=line, field=field, reason=reason))

    def flush():
        if batch:
            imported, existing = _register(batch, org, job, vault)
            counts["imported"] += imported
            counts["already_registered"] += existing
            batch.clear()
        ImportJob.objects(pk=job.pk).update_one(
            set__rows_done=counts["rows_total"], set__imported=counts["imported"],
            set__already_registered=counts["already_registered"], set__error_count=counts["error_count"],
            set__errors=errors, set__heartbeat_at=utcnow())
        if progress:
            progress(counts["rows_total"])

    for line, cells in rows:
        if not any(str(c).strip() for c in cells):
            continue  # blank lines are not rows
        counts["rows_total"] += 1
        try:
            row = domain.parse_row(line, cells, columns)
        except domain.DomainError as exc:
            error(line, exc.field, exc.message)
            continue
        fingerprint = vault.fingerprint(row.id_number)
        if fingerprint in seen:
            error(line, "id_number", f"the same person as line {seen[fingerprint]}")
            continue
        seen[fingerprint] = line
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
    flush()
    ImportJob.objects(pk=job.pk).update_one(set__status="done", set__finished_at=utcnow(),
                                            set__rows_total=counts["rows_total"])
    return ImportJob.objects(pk=job.pk).first()


def _register(rows: list[domain.RosterRow], org: Organisation, job: ImportJob, vault) -> tuple[int, int]:
    """Insert a batch; rows whose person is already registered are counted, not inserted."""
    now = utcnow()
    cards = Counter.take("card_no", len(rows))
    docs = [_member_document(row, domain.card_number(now.year, card), org, job, vault, now)
            for row, card in zip(rows, cards)]
    pointers = announce_many(Member, docs)  # before the write: a crash in between never loses events
    try:
        Member._get_collection().insert_many(docs, ordered=False)
        failed = set()
    except BulkWriteError as exc:
        failed = {e["index"] for e in exc.details["writeErrors"]}
    withdraw(Member, [pointers[docs[i]["_id"]] for i in failed])
    # A failed row is a person the unique fingerprint index already holds. (A job
    # taken up again after its worker died counts its own earlier rows here too.)
    return len(docs) - len(failed), len(failed)


class _Imported(SimpleNamespace):
    """What the event builders read of a member, without building a Document per row."""

    kept_reason = None
    version = 1

    @property
    def pk(self):
        return self.id


def _member_document(row: domain.RosterRow, card_no: str, org: Organisation, job: ImportJob, vault,
                     now: datetime) -> dict:
    """The member document as Member.to_mongo() writes it (imports build thousands a second; a
    test holds the two to the same shape)."""
    member = _Imported(id=ObjectId(), name=row.name, gender=row.gender, employment_type=row.employment_type,
                       status="active", honours=[], org_id=str(org.pk), org_path=list(org.path), card_no=card_no,
                       joined_at=now)
    doc = {"_id": member.id, "outbox": [
        pending_event_son(CONTACT_CHANGED, str(member.id), contact_changed(member, row.phone, None)),
        pending_event_son(MEMBER_JOINED, str(member.id), member_joined(member, org))],
        "name": row.name, "gender": row.gender, "birth_date": datetime.combine(row.birth, time(), tzinfo=timezone.utc),
        "id_number_fingerprint": vault.fingerprint(row.id_number),
        "id_number_encrypted": vault.encrypt(row.id_number),
        "id_number_masked": domain.mask_id_number(row.id_number),
        "phone_encrypted": vault.encrypt(row.phone), "phone_masked": domain.mask_phone(row.phone),
        "org_id": member.org_id, "org_path": member.org_path, "employment_type": row.employment_type,
        "status": "active"}
    if row.job is not None:
        doc["job"] = row.job
    if row.education is not None:
        doc["education"] = row.education
    doc.update({"honours": [], "card_no": card_no, "joined_at": now, "import_job_id": str(job.pk),
                "history": [{"at": now, "action": "import", "by": job.created_by, "to_status": "active",
                             "org_id": str(org.pk), "reason": f"import {job.pk} line {row.line}", "changed": []}],
                "created_at": now, "version": 1})
    return doc
