"""The hardship registry (困难职工档案): household files, objections during the public notice, and the
record of every read of their sensitive details."""
from __future__ import annotations

from bson import ObjectId
from mongoengine import (
    DateField,
    DateTimeField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ListField,
    ObjectIdField,
    StringField,
)

from shared.events.outbox import OutboxDocument

from ..domain.hardship import CATEGORIES, STATUSES
from .views import ALIAS


class FileStep(EmbeddedDocument):
    """One step of a file's history; ``details_encrypted`` keeps the household details a re-check replaced."""
    action = StringField(required=True)
    by = StringField(required=True)
    by_org = StringField()
    at = DateTimeField(required=True)
    note = StringField()
    details_encrypted = StringField()


class HardshipFile(OutboxDocument):
    """A member's household file. Health, income and household circumstances (``details_encrypted``,
    ``visit_encrypted``) are Fernet tokens of JSON, read in clear only by staff in scope, each read recorded."""

    id = ObjectIdField(primary_key=True, default=ObjectId)
    member_id = StringField(required=True)
    org_id = StringField(required=True)  # the member's branch
    org_path = ListField(StringField())  # a copy, rewritten when a subtree moves
    category = StringField(required=True, choices=CATEGORIES)
    status = StringField(required=True, choices=STATUSES, default="submitted")
    # the member's id while the file is active, the file's own id once rejected or closed: unique
    active_slot = StringField(required=True)
    details_encrypted = StringField(required=True)  # causes, household size, income per head, local minimum, notes
    visit_encrypted = StringField()  # who visited, when, findings
    visited_at = DateTimeField()
    notice_opens_at = DateTimeField()
    notice_closes_at = DateTimeField()
    open_objections = IntField(default=0)  # changed by conditional increments only
    objections = IntField(default=0)
    review_on = DateField()
    rejection_reason = StringField()
    submitted_by = StringField(required=True)
    submitted_at = DateTimeField(required=True)
    filed_at = DateTimeField()
    closed_at = DateTimeField()
    history = ListField(EmbeddedDocumentField(FileStep))
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "hardship_files",
            "indexes": [{"fields": ["active_slot"], "unique": True}, "org_path", ("status", "review_on"),
                        ("status", "notice_closes_at")]}


class Objection(OutboxDocument):
    """An objection a member of the same union lodged during the public notice; its text is encrypted."""

    id = ObjectIdField(primary_key=True, default=ObjectId)
    file_id = ObjectIdField(required=True)
    org_path = ListField(StringField())  # the file's
    by_member = StringField(required=True)
    text_encrypted = StringField(required=True)
    status = StringField(required=True, default="open", choices=("open", "upheld", "dismissed"))
    resolution = StringField(max_length=1000)
    resolved_by = StringField()
    resolved_at = DateTimeField()
    lodged_at = DateTimeField(required=True)
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "objections", "indexes": ["file_id", "org_path"]}


class DetailsAccess(Document):
    """Who read which sensitive details of which file, and when (never the values)."""

    file_id = ObjectIdField(required=True)
    member_id = StringField(required=True)
    fields = ListField(StringField(), required=True)
    by = StringField(required=True)
    by_org = StringField()
    request_id = StringField()
    at = DateTimeField(required=True)

    meta = {"db_alias": ALIAS, "collection": "details_access", "indexes": ["file_id"]}
