"""Suggestions (合理化建议)."""
from __future__ import annotations

from bson import ObjectId
from mongoengine import DateTimeField, IntField, ListField, ObjectIdField, StringField

from shared.events.outbox import OutboxDocument

from .views import ALIAS


class Suggestion(OutboxDocument):
    id = ObjectIdField(primary_key=True, default=ObjectId)
    member_id = StringField(required=True)
    org_path = ListField(StringField())  # the member's path when it suggested (staff scope)
    title = StringField(required=True, max_length=200)
    content = StringField(required=True, max_length=5000)
    status = StringField(required=True, default="submitted")
    review_note = StringField(max_length=1000)
    reward_fen = IntField()
    reviewed_by = StringField()
    reviewed_at = DateTimeField()
    submitted_at = DateTimeField(required=True)
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "suggestions", "indexes": ["org_path", "member_id"]}
