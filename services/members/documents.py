"""The Documents the members service owns, in its own database."""
from __future__ import annotations

from mongoengine import (
    BinaryField,
    BooleanField,
    DateTimeField,
    DictField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ListField,
    StringField,
)
from pymongo.errors import DuplicateKeyError

from shared.events.envelope import utcnow
from shared.events.outbox import OutboxDocument

from .domain import CADRE_ROLES, EMPLOYMENT_TYPES, GENDERS, MEMBER_STATUSES, ORG_KINDS, ORG_STATUSES, TRANSFER_STATUSES

ALIAS = "members"


class Cadre(EmbeddedDocument):
    """A person holding a union role (工会干部) for a term."""

    id = StringField(required=True)
    name = StringField(required=True, max_length=100)
    role = StringField(required=True, choices=CADRE_ROLES)
    member_id = StringField()
    term_start = DateTimeField(required=True)
    term_end = DateTimeField()


class Organisation(OutboxDocument):
    name = StringField(required=True, max_length=200)
    kind = StringField(required=True, choices=ORG_KINDS)
    parent_id = StringField()
    path = ListField(StringField(), required=True)
    status = StringField(required=True, choices=ORG_STATUSES, default="active")
    credit_code = StringField(unique=True, sparse=True)  # the employer's, for grassroots unions
    headcount = IntField(min_value=0)  # employees at the employer, for the join rate
    cadres = ListField(EmbeddedDocumentField(Cadre))
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    closed_at = DateTimeField()
    move_id = StringField()  # the latest OrgMove of this organisation
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "organisations", "indexes": ["path", "parent_id"]}


class OrgMove(Document):
    """A subtree move being followed: the moved organisation's own path changed in the request; the
    worker brings every copy of a path below it (organisations, members, transfers, dues accounts,
    reviews, import jobs, statistics) up to date, resuming after a crash, and counts what it changed."""

    org_id = StringField(required=True)
    old_path = ListField(StringField(), required=True)
    new_path = ListField(StringField(), required=True)
    state = StringField(required=True, choices=("following", "done"), default="following")
    requested_by = StringField(required=True)
    requested_at = DateTimeField(required=True)
    finished_at = DateTimeField()
    updated = DictField()  # collection → copies brought up to date so far

    meta = {"db_alias": ALIAS, "collection": "org_moves", "indexes": ["state"]}


class HistoryEntry(EmbeddedDocument):
    """One change in a member's life, kept for good (who, when, what)."""

    at = DateTimeField(required=True)
    action = StringField(required=True)
    by = StringField(required=True)
    from_status = StringField()
    to_status = StringField()
    org_id = StringField()
    reason = StringField()
    changed = ListField(StringField())


class Member(OutboxDocument):
    name = StringField(required=True, max_length=100)
    gender = StringField(required=True, choices=GENDERS)
    birth_year = IntField()  # for age statistics; the full birth date would narrow the masked ID number
    id_number_fingerprint = StringField(required=True, unique=True)
    id_number_encrypted = StringField(required=True)
    id_number_masked = StringField(required=True)
    phone_encrypted = StringField(required=True)
    phone_masked = StringField(required=True)
    email_encrypted = StringField()
    org_id = StringField(required=True)
    org_path = ListField(StringField(), required=True)
    employment_type = StringField(required=True, choices=EMPLOYMENT_TYPES)
    status = StringField(required=True, choices=MEMBER_STATUSES)
    job = StringField(max_length=100)
    education = StringField(max_length=50)
    honours = ListField(StringField(max_length=50))  # 荣誉: model_worker (劳模), skills_champion, ...
    card_no = StringField(unique=True, sparse=True)
    joined_at = DateTimeField()
    kept_reason = StringField()  # set while the membership is kept (保留会籍)
    left_at = DateTimeField()
    application_state = StringField(choices=("pending", "approved", "rejected"))
    open_transfer_id = StringField()  # at most one transfer waits for an answer
    import_job_id = StringField()  # the roster import that registered the member, if any
    history = ListField(EmbeddedDocumentField(HistoryEntry))
    created_at = DateTimeField(default=utcnow)
    version = IntField(default=1)

    # org_path leads for MongoDB's compound scans; the (field, id) keys serve sorted pages on engines
    # that walk one btree in order (the local FerretDB on PostgreSQL)
    meta = {"db_alias": ALIAS, "collection": "members",
            "indexes": ["org_path", "org_id", ("org_path", "status", "-joined_at"), ("org_path", "name"),
                        "employment_type", ("joined_at", "id"), ("name", "id")]}


class Transfer(OutboxDocument):
    """A request to move a member to another union, and its answer."""

    member_id = StringField(required=True)
    member_name = StringField(required=True)
    from_org_id = StringField(required=True)
    from_org_path = ListField(StringField(), required=True)
    to_org_id = StringField(required=True)
    to_org_path = ListField(StringField(), required=True)
    status = StringField(required=True, choices=TRANSFER_STATUSES, default="requested")
    requested_by = StringField(required=True)
    requested_at = DateTimeField(required=True)
    expires_at = DateTimeField(required=True)
    reason = StringField()
    decided_by = StringField()
    decided_at = DateTimeField()
    decision_reason = StringField()
    completed = BooleanField(default=False)  # the member's organisation has changed
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "transfers",
            "indexes": ["member_id", "status", "from_org_path", "to_org_path", ("status", "expires_at")]}


class Payment(EmbeddedDocument):
    reference = StringField(required=True)
    amount_fen = IntField(required=True, min_value=1)
    paid_at = DateTimeField(required=True)


class DuesAccount(OutboxDocument):
    """One member's dues for one month (会费): what is owed and what was paid.
    Keyed ``<member_id>:<YYYY-MM>`` so every write goes by _id."""

    id = StringField(primary_key=True)
    member_id = StringField(required=True)
    org_id = StringField(required=True)
    org_path = ListField(StringField(), required=True)
    month = StringField(required=True)
    wage_fen = IntField(min_value=0)
    dues_fen = IntField(required=True, min_value=0)
    exempt = BooleanField(default=False)  # kept membership owes nothing
    paid_fen = IntField(default=0)
    payments = ListField(EmbeddedDocumentField(Payment))
    assessed_at = DateTimeField()
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "dues_accounts", "indexes": ["member_id", "month", "org_path"]}


class Participation(Document):
    """A month in which a member took part in union life (from the events service)."""

    id = StringField(primary_key=True)  # <member_id>:<YYYY-MM>
    member_id = StringField(required=True)
    month = StringField(required=True)

    meta = {"db_alias": ALIAS, "collection": "participation", "indexes": ["month"]}


class Review(OutboxDocument):
    """An "education pending" review (章程 art. 5) for the branch to follow up.
    Opening or resolving one never changes a member's status."""

    id = StringField(primary_key=True)  # <member_id>:<evaluated month>
    member_id = StringField(required=True)
    member_name = StringField(required=True)
    org_id = StringField(required=True)
    org_path = ListField(StringField(), required=True)
    evaluated_month = StringField(required=True)
    window = ListField(StringField(), required=True)
    status = StringField(required=True, choices=("open", "resolved"), default="open")
    opened_at = DateTimeField(required=True)
    resolved_at = DateTimeField()
    resolved_by = StringField()
    outcome = StringField()
    note = StringField()
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "reviews",
            "indexes": ["member_id", ("org_path", "status", "opened_at"), ("opened_at", "id")]}


class OrgStats(Document):
    """Counts for the members registered directly at one organisation, rebuilt
    by the worker; a subtree's dashboard sums these instead of scanning members."""

    id = StringField(primary_key=True)  # the organisation id
    path = ListField(StringField(), required=True)
    by_status = DictField()
    by_gender = DictField()
    by_employment_type = DictField()
    by_birth_year = DictField()
    kept = IntField(default=0)
    joined_by_month = DictField()
    left_by_month = DictField()
    transferred_in_by_month = DictField()
    transferred_out_by_month = DictField()
    # the same counts for the organisation and everything below it, and the employees of its active
    # grassroots unions, as the tree stood at computed_at: a dashboard reads one document
    subtree = DictField()
    subtree_employees = IntField(default=0)
    computed_at = DateTimeField(required=True)

    meta = {"db_alias": ALIAS, "collection": "org_stats"}


class ImportError_(EmbeddedDocument):
    """A bad row: line, field and rule, never the cell's value (rosters are personal data)."""

    line = IntField(required=True)
    field = StringField()
    reason = StringField(required=True)


class ImportJob(Document):
    """A roster file being imported; progress and the error report live here."""

    org_id = StringField(required=True)
    org_path = ListField(StringField(), required=True)
    filename = StringField(required=True)
    file_format = StringField(required=True, choices=("csv", "xlsx"))
    sha256 = StringField(required=True)
    size = IntField(required=True)
    chunks = IntField(required=True)
    status = StringField(required=True, choices=("queued", "running", "done", "failed"), default="queued")
    created_by = StringField(required=True)
    created_at = DateTimeField(required=True)
    heartbeat_at = DateTimeField()
    attempts = IntField(default=0)  # times a worker took it up; failed after imports.MAX_ATTEMPTS
    finished_at = DateTimeField()
    rows_total = IntField(default=0)
    rows_done = IntField(default=0)
    imported = IntField(default=0)
    already_registered = IntField(default=0)
    error_count = IntField(default=0)
    errors = ListField(EmbeddedDocumentField(ImportError_))  # the first MAX_REPORTED, in line order
    failure = StringField()

    meta = {"db_alias": ALIAS, "collection": "import_jobs", "indexes": ["status", "org_path"]}


class ImportChunk(Document):
    """The uploaded file, in pieces small enough for one document each, encrypted (Fernet, the PII key)
    and kept only while its job waits or runs (imports.sweep deletes what outlives its job)."""

    id = StringField(primary_key=True)  # <job id>:<n>
    data = BinaryField(required=True)  # a Fernet token of the piece

    meta = {"db_alias": ALIAS, "collection": "import_chunks"}


class CallerRecord(Document):
    """Who did something that must stay on record, and when (never a personal-data value)."""

    by = StringField(required=True)
    by_org = StringField()
    request_id = StringField()
    at = DateTimeField(required=True)

    meta = {"abstract": True}


class PiiAccess(CallerRecord):
    """Who saw which personal data of whom."""

    member_id = StringField(required=True)
    fields = ListField(StringField(), required=True)

    meta = {"db_alias": ALIAS, "collection": "pii_access", "indexes": ["member_id"]}


class UniquenessRefusal(CallerRecord):
    """Each time a caller was told that an ID number is already registered elsewhere: federation-wide
    uniqueness necessarily tells that much, so it is recorded and rationed."""

    meta = {"db_alias": ALIAS, "collection": "uniqueness_refusals", "indexes": ["by"]}


class RefusalBudget(Document):
    """Refusals per caller and hour (``<sub>:<YYYY-MM-DDTHH>``), counted atomically."""

    id = StringField(primary_key=True)
    n = IntField(default=0)

    meta = {"db_alias": ALIAS, "collection": "refusal_budgets"}


class Counter(Document):
    """Federation-wide sequences (card numbers), advanced atomically."""

    id = StringField(primary_key=True)
    value = IntField(default=0)

    meta = {"db_alias": ALIAS, "collection": "counters"}

    @classmethod
    def take(cls, name: str, count: int) -> range:
        """Reserve ``count`` consecutive values at once (bulk imports, a web process's block)."""
        try:
            doc = cls._get_collection().find_one_and_update(
                {"_id": name}, {"$inc": {"value": count}}, upsert=True, return_document=True)
        except DuplicateKeyError:  # two first-ever upserts raced; the counter exists now
            doc = cls._get_collection().find_one_and_update(
                {"_id": name}, {"$inc": {"value": count}}, return_document=True)
        return range(doc["value"] - count + 1, doc["value"] + 1)


ALL = [Organisation, OrgMove, Member, Transfer, DuesAccount, Participation, Review, OrgStats, ImportJob, ImportChunk,
       PiiAccess, UniquenessRefusal, RefusalBudget, Counter]
