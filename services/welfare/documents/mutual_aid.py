"""Mutual medical aid (职工医疗互助): a member's enrolment for a year. Claims are assistance applications of
kind ``mutual_aid``; the enrolment holds what is left of the member's yearly cap, a counter changed only
by conditional increments (two racing approvals cannot both take the last of it)."""
from __future__ import annotations

from bson import ObjectId
from mongoengine import DateTimeField, Document, IntField, ListField, ObjectIdField, StringField

from .views import ALIAS


class Enrolment(Document):
    id = ObjectIdField(primary_key=True, default=ObjectId)
    key = StringField(required=True)  # member:year, unique: one enrolment per member and year
    member_id = StringField(required=True)
    org_id = StringField(required=True)  # the member's branch
    org_path = ListField(StringField())  # a copy, rewritten when a subtree moves
    scheme_org_id = StringField(required=True)  # the organisation whose scheme covers it (its mutual_aid budget)
    year = IntField(required=True)
    contribution_fen = IntField(required=True, min_value=1)
    entry_id = ObjectIdField(required=True)  # the contribution in the ledger
    rate_percent = IntField(required=True)  # the scheme's terms when enrolled, for the whole year
    deductible_fen = IntField(required=True)
    cap_fen = IntField(required=True)
    cap_left_fen = IntField(required=True)  # changed only by conditional increments
    reimbursed_fen = IntField(default=0)
    claims = ListField(StringField())  # the ids of the claims holding part of the cap (a plain id list)
    enrolled_by = StringField(required=True)
    enrolled_at = DateTimeField(required=True)

    meta = {"db_alias": ALIAS, "collection": "mutual_aid_enrolments",
            "indexes": [{"fields": ["key"], "unique": True}, "org_path", ("member_id", "year")]}
