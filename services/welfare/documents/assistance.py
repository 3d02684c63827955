"""Assistance applications (帮扶申请)."""
from __future__ import annotations

from bson import ObjectId
from mongoengine import (
    DateField,
    DateTimeField,
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ListField,
    ObjectIdField,
    StringField,
)

from shared.events.outbox import OutboxDocument

from ..domain.assistance import KINDS, STATUSES
from .views import ALIAS


class Step(EmbeddedDocument):
    """One transition: who made it, when, with what note (the trail is never rewritten)."""
    action = StringField(required=True)
    by = StringField(required=True)
    by_org = StringField()
    at = DateTimeField(required=True)
    note = StringField()


class Application(OutboxDocument):
    id = ObjectIdField(primary_key=True, default=ObjectId)
    member_id = StringField(required=True)
    org_id = StringField(required=True)  # the member's branch when it applied (reviews it)
    org_path = ListField(StringField())  # a copy, rewritten when a subtree moves
    kind = StringField(required=True, choices=KINDS)
    year = IntField(required=True)
    amount_fen = IntField(required=True, min_value=1)
    # the applicant's reasons (illness, household circumstances): sealed at rest like hardship details
    reason_encrypted = StringField(required=True)
    child_school = StringField(max_length=200)
    child_admission_year = IntField()
    status = StringField(required=True, choices=STATUSES, default="submitted")
    # "<member>:<kind>" while open, the application's own id once closed: unique, so a second open
    # application of the same kind is refused by the database, whatever races
    open_slot = StringField(required=True)
    needs_level_above = IntField(default=0)  # 1 when the amount was over the branch's limit at approval
    rejection_reason = StringField()
    commitment_id = ObjectIdField()
    disbursement_id = ObjectIdField()
    payment_reference = StringField()
    submitted_by = StringField(required=True)
    submitted_at = DateTimeField(required=True)
    decided_at = DateTimeField()
    # a mutual medical aid claim (kind mutual_aid): the enrolment whose cap it draws on, the scheme's
    # organisation whose mutual_aid budget pays it, the hospital stay and its eligible expenses
    enrolment_id = ObjectIdField()
    scheme_org_id = StringField()
    expenses_fen = IntField()
    admitted_on = DateField()
    discharged_on = DateField()
    trail = ListField(EmbeddedDocumentField(Step))
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "applications",
            "indexes": [{"fields": ["open_slot"], "unique": True}, "org_path", ("member_id", "kind", "year")]}
