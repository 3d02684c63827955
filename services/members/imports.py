"""Roster imports: the worker reads an uploaded CSV or XLSX file, validates
every row, reports each bad row with its line number, field and reason, and
registers the good rows in batches. Importing the same file again changes
nothing: a person already registered is counted, not registered twice.
A job whose worker died is taken up again and finishes the same way (the rows
its first attempt registered are then counted as already registered), at most
MAX_ATTEMPTS times: then it is failed with the reason.

Personal data. The uploaded file is full of ID numbers and phones: it is held
encrypted with the members' personal-data key (the service's shared.pii.Vault)
and only while its job waits or runs. It is deleted as soon as the job ends (done
or failed), and sweep() fails a job not ended RETAIN_FOR (24 h) after its upload
and deletes its file, and any file left by a job that has ended. The error
report names line, field and rule, never a cell's value (domain.roster).

Bounds, whatever the file claims (an XLSX's <dimension> is not trusted): at
most MAX_FILE_BYTES uploaded; a header and MAX_ROWS rows, more is refused before
a row is registered; the first MAX_COLUMNS columns; a CSV row of at most
MAX_ROW_CHARS characters; an XLSX that unpacks to at most MAX_XLSX_UNPACKED
bytes (MAX_SHARED_STRINGS of them shared strings), no large part compressed more
than MAX_RATIO:1 (checked on upload and again before openpyxl opens it). The
worst a file can ask of a worker is then about what the largest real roster
does. Imports run in a process of their own, started by a periodic job of the
worker when one waits (shared.worker.in_own_process): a long one holds up no
other job and shares no interpreter lock with the worker's relay and consumer."""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import logging
import re
import traceback
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from time import monotonic
from types import SimpleNamespace
from typing import Iterator

from bson import ObjectId
from bson.errors import InvalidId
from cryptography.fernet import InvalidToken
from mongoengine import Q
from pymongo.errors import BulkWriteError

from shared.events.envelope import utcnow
from shared.events.outbox import Hold, announce_many, pending_event_son, release, withdraw

from . import domain
from .card_numbers import COUNTER as CARD_COUNTER
from .documents import Counter, ImportChunk, ImportError_, ImportJob, Member, Organisation
from .domain.roster import MAX_COLUMNS, MAX_ROWS, too_many_rows
from .published import CONTACT_CHANGED, MEMBER_JOINED, contact_changed, member_joined

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
BATCH = 500
MAX_REPORTED = 1000  # errors kept in full on the job; the count is always exact
STALE_AFTER = timedelta(minutes=2)
BEAT_EVERY = 15.0  # seconds: a job beats at least this often even when no batch fills (rows in error, blanks)
MAX_ATTEMPTS = 3  # a job whose worker stopped this many times is failed, not taken up again
# The imported members' events (welcome, contact details) go out when the job ends, not while it runs;
# at the latest this long after their batch was written, should the job's end never release them.
HOLD_EVENTS_AT_MOST = timedelta(minutes=15)
RETAIN_FOR = timedelta(hours=24)  # the longest an uploaded file is kept: its job is failed after this
ORPHAN_AFTER = timedelta(hours=1)  # pieces of an upload whose job was never saved (the upload broke off)
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_ROW_CHARS = 64 * 1024  # one CSV row; a real roster row is a few hundred characters
# A 200,000-row roster of 15 columns is about 100 MiB of sheet XML with shared strings (Excel, WPS; the
# shared strings 20-40 MiB of it), 160 MiB with inline strings (openpyxl, POI: 54 bytes a cell, so 256 MiB
# holds about 25 columns). Real parts of a workbook compress 5-15:1 (openpyxl's own output, styled empty
# cells included); 200:1 is a bomb. Parts unpack as they are read, so these bound CPU time; shared strings
# are held in memory, whence their own, lower bound.
MAX_XLSX_UNPACKED = 256 * 1024 * 1024
MAX_SHARED_STRINGS = 64 * 1024 * 1024
MAX_RATIO = 200
RATIO_FROM = 1024 * 1024  # smaller parts may compress as well as they like: they cannot grow large
MAX_ZIP_MEMBERS = 1000
UNFINISHED = ("queued", "running")


class _Superseded(Exception):
    """The job is no longer this worker's: the sweep failed it, or another worker took it up."""


# --- the uploaded file, encrypted at rest --------------------------------------------------------------

def _seal(vault, data: bytes) -> bytes:
    """Fernet with the members' personal-data key, through the vault's text interface (base64 in)."""
    return vault.encrypt(base64.b64encode(data).decode("ascii")).encode("ascii")


def _unseal(vault, token: bytes) -> bytes:
    return base64.b64decode(vault.decrypt(token.decode("ascii")))


def _chunk_ids(job: ImportJob) -> list[str]:
    return [f"{job.pk}:{n}" for n in range(job.chunks)]


def store_file(job: ImportJob, content: bytes, vault) -> None:
    ImportChunk.objects.insert([ImportChunk(id=f"{job.pk}:{n}", data=_seal(vault, content[i:i + CHUNK_BYTES]))
                                for n, i in enumerate(range(0, max(len(content), 1), CHUNK_BYTES))],
                               load_bulk=False)


def drop_file(job: ImportJob) -> None:
    ImportChunk.objects(pk__in=_chunk_ids(job)).delete()


def new_job(org: Organisation, filename: str, content: bytes, created_by: str, vault) -> ImportJob:
    """Queue a roster for the worker; raises DomainError("file", ...) for a workbook no worker should open."""
    file_format = "xlsx" if filename.lower().endswith(".xlsx") or content[:2] == b"PK" else "csv"
    if file_format == "xlsx":
        inspect_xlsx(content)
    job = ImportJob(id=ObjectId(), org_id=str(org.pk), org_path=list(org.path), filename=filename,
                    file_format=file_format, sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                    chunks=max(1, -(-len(content) // CHUNK_BYTES)), created_by=created_by, created_at=utcnow())
    store_file(job, content, vault)
    job.save(force_insert=True)
    return job


def _content(job: ImportJob, vault) -> bytes:
    ids = _chunk_ids(job)
    stored = {chunk.pk: chunk.data for chunk in ImportChunk.objects(pk__in=ids)}
    if len(stored) != len(ids):
        raise domain.DomainError("file", "the uploaded file is no longer held (files are kept only while their "
                                         "import waits or runs): upload it again")
    try:
        return b"".join(_unseal(vault, stored[i]) for i in ids)
    except (InvalidToken, ValueError):
        raise domain.DomainError("file", "the uploaded file cannot be decrypted with the service's personal-data "
                                         "keys: upload it again") from None


# --- reading rows, bounded -----------------------------------------------------------------------------

def inspect_xlsx(content: bytes) -> None:
    """Refuse a workbook that would unpack to far more than any roster (a zip bomb), before openpyxl opens
    it. The sizes the zip directory declares are a bound: zipfile never unpacks a part past its declared
    size (it stops there and fails the CRC check)."""
    try:
        parts = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise domain.DomainError("file", "the file is neither CSV text nor an XLSX workbook (a zip archive)") \
            from None
    if len(parts) > MAX_ZIP_MEMBERS:
        raise domain.DomainError("file", f"the workbook has {len(parts):,} parts, more than the {MAX_ZIP_MEMBERS:,} "
                                         "a roster ever has")
    unpacked = sum(part.file_size for part in parts)
    if unpacked > MAX_XLSX_UNPACKED:
        raise domain.DomainError("file", f"the workbook unpacks to {unpacked / 2**20:,.0f} MiB, more than the "
                                         f"{MAX_XLSX_UNPACKED // 2**20} MiB a roster may (MAX_XLSX_UNPACKED)")
    for part in parts:
        name = part.filename[:100]
        if part.file_size > RATIO_FROM and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise domain.DomainError("file", f"{name} is compressed {part.file_size / max(part.compress_size, 1):,.0f}"
                                             f":1, more than the {MAX_RATIO}:1 a roster's parts ever are (MAX_RATIO)")
        if name.lower().endswith("sharedstrings.xml") and part.file_size > MAX_SHARED_STRINGS:
            raise domain.DomainError("file", f"{name} unpacks to {part.file_size / 2**20:,.0f} MiB, more than the "
                                             f"{MAX_SHARED_STRINGS // 2**20} MiB a roster's shared strings may "
                                             "(MAX_SHARED_STRINGS)")


def read_rows(content: bytes, file_format: str) -> Iterator[tuple[int, list]]:
    """(line number, cells) for every row that is not blank, the header included; the line number is the
    sheet's row number or the CSV record's. At most a header and MAX_ROWS rows (more raises before the
    first is yielded, where the file can be counted: see _sheet_rows), the first MAX_COLUMNS cells of each."""
    if file_format == "xlsx":
        yield from _xlsx_rows(content)
    else:
        yield from _csv_rows(content)


def _text(value) -> str:
    if value is None:
        return ""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook

    inspect_xlsx(content)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except Exception as exc:
        raise domain.DomainError("file", f"the XLSX workbook cannot be read ({type(exc).__name__})") from None
    try:
        if _sheet_rows(sheet) > MAX_ROWS + 1:
            raise too_many_rows()
        last = MAX_ROWS + 1  # the header and MAX_ROWS rows
        # max_row and max_col bound what openpyxl makes, whatever <dimension> claims: it fills the gaps
        # between rows with one shared tuple, and yields line last + 1 only if the sheet has a row there
        # or further down.
        for line, row in enumerate(sheet.iter_rows(max_row=last + 1, max_col=MAX_COLUMNS, values_only=True),
                                   start=1):
            if line > last:  # a row this far down exists, whatever came before it
                raise domain.DomainError("file", f"the sheet has rows beyond line {last:,}. {too_many_rows().message}")
            if row.count(None) == len(row):
                continue  # blank, cheaply (the gaps openpyxl fills are all None)
            cells = [_text(v) for v in row]
            if any(cell.strip() for cell in cells):  # blank lines are not rows
                yield line, cells
    finally:
        book.close()


_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,15}:)?row[\s/>]")


def _sheet_rows(sheet) -> int:
    """How many <row> elements the sheet's XML holds, at least its rows that are not blank, counted by a
    byte scan (unpacking, no parsing: about 1% of reading the rows) so that a roster over MAX_ROWS is
    refused before a row is registered. It stops soon after MAX_ROWS + 1. Zero where the sheet cannot be
    scanned; the bounds on reading still hold."""
    open_source = getattr(sheet, "_get_source", None)  # openpyxl's way to the sheet's part (openpyxl pinned)
    if open_source is None:
        return 0
    count, tail = 0, b""
    with open_source() as source:
        while True:
            block = source.read(CHUNK_BYTES)
            data = tail + block
            # a tag starts with its only "<": cut before the last one, so that none spans two blocks
            cut = data.rfind(b"<") if block else -1
            cut = len(data) if cut < 0 else cut
            count += len(_ROW_TAG.findall(data, 0, cut))
            tail = data[cut:]
            if not block or count > MAX_ROWS + 1:
                return count


def _csv_rows(content: bytes) -> Iterator[tuple[int, list]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise domain.DomainError("file", "the CSV file is neither UTF-8 nor GB18030 text")
    last = MAX_ROWS + 1  # the header and MAX_ROWS rows
    if text.count("\n") >= last and sum(1 for _ in _csv_records(text, stop_after=last + 1)) > last:
        raise too_many_rows()  # counted first (cheap next to importing), so that nothing is imported
    rows = 0
    for line, cells in _csv_records(text):
        rows += 1
        if rows > last:
            raise too_many_rows()
        yield line, cells[:MAX_COLUMNS]


def _csv_records(text: str, stop_after: int | None = None) -> Iterator[tuple[int, list]]:
    """(line number, cells) of every record that is not blank; a record over MAX_ROW_CHARS raises before
    the csv module makes its fields (a line of millions of commas is a list of millions of strings)."""
    state = {"chars": 0, "line": 1}

    def lines():
        for physical in io.StringIO(text):
            state["chars"] += len(physical)
            if state["chars"] > MAX_ROW_CHARS:
                raise domain.DomainError("file", f"line {state['line']} is longer than {MAX_ROW_CHARS:,} characters "
                                                 "(MAX_ROW_CHARS): it is not a roster row")
            yield physical

    found = 0
    try:
        for line, cells in enumerate(csv.reader(lines()), start=1):
            state["chars"], state["line"] = 0, line + 1
            if not any(cell.strip() for cell in cells):
                continue  # blank lines are not rows
            yield line, cells
            found += 1
            if stop_after is not None and found >= stop_after:
                return
    except csv.Error:
        raise domain.DomainError("file", f"the CSV file cannot be read at line {state['line']}") from None


# --- jobs ----------------------------------------------------------------------------------------------

def _waiting(now: datetime):
    """Jobs that wait for a worker: queued, or running without a recent beat (a running job whose worker
    beat lately is that worker's)."""
    stale = now - STALE_AFTER
    return ImportJob.objects(Q(status="queued") | Q(status="running", heartbeat_at=None)
                             | Q(status="running", heartbeat_at__lte=stale))


def waiting() -> bool:
    """Whether a job waits for a worker (one indexed read)."""
    return _waiting(utcnow()).only("id").first() is not None


def claim_next() -> ImportJob | None:
    """A queued job, or a running one whose worker stopped beating (failed instead once it has been
    taken up MAX_ATTEMPTS times)."""
    now = utcnow()
    for job in _waiting(now).only("id", "status", "heartbeat_at", "attempts", "chunks").order_by("id"):
        if job.status == "running":
            if (job.attempts or 0) >= MAX_ATTEMPTS:
                _give_up(job, now)
                continue
        if ImportJob.objects(pk=job.pk, status=job.status, heartbeat_at=job.heartbeat_at).update_one(
                set__status="running", set__heartbeat_at=now, inc__attempts=1):
            return ImportJob.objects(pk=job.pk).first()
    return None


def _give_up(job: ImportJob, now: datetime) -> None:
    failure = (f"the import was started {job.attempts} times and stopped each time before it finished "
               f"(MAX_ATTEMPTS = {MAX_ATTEMPTS}): check the file, or split it, and upload it again")
    if ImportJob.objects(pk=job.pk, status="running", heartbeat_at=job.heartbeat_at).update_one(
            set__status="failed", set__failure=failure, set__finished_at=now):
        log.warning("import given up", extra={"job": str(job.pk), "attempts": job.attempts})
        release(Member, _holder(job))
        drop_file(job)


def _holder(job: ImportJob) -> str:
    return f"import:{job.pk}"


def _finish(job: ImportJob, status: str, **fields) -> bool:
    """End the job (if it is still this worker's), send its members' events and delete its file."""
    release(Member, _holder(job))  # first: a crash after it sends them twice at worst, never holds them
    ended = ImportJob.objects(pk=job.pk, status="running", attempts=job.attempts).update_one(
        set__status=status, set__finished_at=utcnow(), **{f"set__{k}": v for k, v in fields.items()})
    if ended:
        drop_file(job)
    return bool(ended)


def process_pending(vault, seal) -> int:
    done = 0
    while (job := claim_next()) is not None:
        try:
            run(job, vault, seal)
        except _Superseded:
            log.warning("import no longer this worker's", extra={"job": str(job.pk)})
        except domain.DomainError as exc:
            _finish(job, "failed", failure=exc.message)
        except Exception as exc:
            # Not log.exception: a parser's message can quote a cell ("could not convert string to float:
            # '1101...'"), and logs must hold no ID number or phone. The type and the place suffice.
            where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            log.error("import failed", extra={"job": str(job.pk), "error": type(exc).__name__,
                                              "at": f"{where.filename}:{where.lineno}" if where else None})
            _finish(job, "failed", failure=f"the file could not be imported ({type(exc).__name__})")
        done += 1
    return done


def sweep(now: datetime | None = None) -> int:
    """Fail every job not ended RETAIN_FOR after its upload, and delete every uploaded file whose job has
    ended (or was never saved: an upload that broke off). Returns how many jobs it failed."""
    now = now or utcnow()
    failure = (f"not finished within {RETAIN_FOR.total_seconds() / 3600:g} h of the upload (RETAIN_FOR); the "
               "file is deleted: upload it again")
    expired = 0
    for job in ImportJob.objects(status__in=UNFINISHED, created_at__lt=now - RETAIN_FOR).only("id", "chunks"):
        if ImportJob.objects(pk=job.pk, status__in=UNFINISHED).update_one(
                set__status="failed", set__failure=failure, set__finished_at=now):
            release(Member, _holder(job))
            log.warning("import expired", extra={"job": str(job.pk)})
            expired += 1
    held: dict[str, list[str]] = {}
    for chunk in ImportChunk._get_collection().find({}, {"_id": 1}):
        held.setdefault(chunk["_id"].rpartition(":")[0], []).append(chunk["_id"])
    if not held:
        return expired
    ids = {}
    for job_id in held:
        try:
            ids[job_id] = ObjectId(job_id)
        except (InvalidId, TypeError):
            ids[job_id] = None
    status = {str(job.pk): job.status
              for job in ImportJob.objects(pk__in=[i for i in ids.values() if i]).only("id", "status")}
    for job_id, chunks in held.items():
        if status.get(job_id) in UNFINISHED:
            continue
        if job_id not in status and ids[job_id] and ids[job_id].generation_time > now - ORPHAN_AFTER:
            continue  # an upload still being stored: its job is saved after its file
        ImportChunk.objects(pk__in=chunks).delete()
    return expired


def run(job: ImportJob, vault, seal, progress=None) -> ImportJob:
    org = Organisation.objects(pk=job.org_id).first()
    domain.check_can_hold_members(org.kind, org.status)
    rows = read_rows(_content(job, vault), job.file_format)
    _, header = next(rows, (1, []))
    while header and not str(header[-1]).strip():
        header = header[:-1]
    if not header:
        raise domain.DomainError("file", "the file is empty: no header row and no members")
    columns = domain.column_map(header)
    counts = {"rows_total": 0, "imported": 0, "already_registered": 0, "error_count": 0}
    errors: list[ImportError_] = []
    seen: dict[str, int] = {}  # fingerprint -> first line, to report duplicates inside the file
    batch: list[tuple[domain.RosterRow, str]] = []  # (row, its fingerprint)
    beat = monotonic()
    # One batch is written while the next is read and built: the database's time and the worker's
    # overlap. The writes stay in order, one at a time.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
    writing: Future | None = None
    hold = Hold(_holder(job), HOLD_EVENTS_AT_MOST)

    def error(line, field, reason):
        counts["error_count"] += 1
        if len(errors) < MAX_REPORTED:
            errors.append(ImportError_(line=line, field=field, reason=reason))

    def written():
        nonlocal writing
        if writing is not None:
            imported, existing = writing.result()
            writing = None
            counts["imported"] += imported
            counts["already_registered"] += existing

    def flush(last=False):
        nonlocal beat, writing
        docs = _documents(batch, org, job, vault, seal) if batch else None
        batch.clear()
        written()
        if docs:
            writing = writer.submit(_write, docs, hold)
        if last:
            written()
        if not ImportJob.objects(pk=job.pk, status="running", attempts=job.attempts).update_one(
                set__rows_done=counts["rows_total"], set__imported=counts["imported"],
                set__already_registered=counts["already_registered"], set__error_count=counts["error_count"],
                set__errors=errors, set__heartbeat_at=utcnow()):
            raise _Superseded()
        beat = monotonic()
        if progress:
            progress(counts["rows_total"])

    try:
        for line, cells in rows:
            if monotonic() - beat > BEAT_EVERY:
                flush()
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
            batch.append((row, fingerprint))
            if len(batch) >= BATCH:
                flush()
        flush(last=True)
    finally:
        writer.shutdown(wait=True)  # a write under way ends before the job is given up or failed
    if not _finish(job, "done", rows_total=counts["rows_total"]):
        raise _Superseded()
    return ImportJob.objects(pk=job.pk).first()


def _documents(rows: list[tuple[domain.RosterRow, str]], org: Organisation, job: ImportJob, vault,
               seal) -> list[dict]:
    now = utcnow()
    cards = Counter.take(CARD_COUNTER, len(rows))
    return [_member_document(row, fingerprint, domain.card_number(now.year, card), org, job, vault, seal, now)
            for (row, fingerprint), card in zip(rows, cards, strict=True)]


def _write(docs: list[dict], hold: Hold) -> tuple[int, int]:
    """Insert a batch; rows whose person is already registered are counted, not inserted."""
    pointers = announce_many(Member, docs, hold)  # before the write: a crash in between never loses events
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


def _member_document(row: domain.RosterRow, fingerprint: str, card_no: str, org: Organisation, job: ImportJob,
                     vault, seal, now: datetime) -> dict:
    """The member document as Member.to_mongo() writes it (imports build thousands a second; a
    test holds the two to the same shape)."""
    member = _Imported(id=ObjectId(), name=row.name, gender=row.gender, employment_type=row.employment_type,
                       status="active", honours=[], org_id=str(org.pk), org_path=list(org.path), card_no=card_no,
                       joined_at=now)
    doc = {"_id": member.id, "outbox": [
        pending_event_son(CONTACT_CHANGED, str(member.id), contact_changed(member, row.phone, None, seal)),
        pending_event_son(MEMBER_JOINED, str(member.id), member_joined(member, org))],
        "name": row.name, "gender": row.gender, "birth_year": row.birth.year,
        "id_number_fingerprint": fingerprint,
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
