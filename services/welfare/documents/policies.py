"""What an organisation decided for assistance and hardship files below it (configurable per organisation)."""
from __future__ import annotations

from mongoengine import DateTimeField, DictField, Document, IntField, StringField

from .views import ALIAS


class Policy(Document):
    id = StringField(primary_key=True)  # the organisation's id
    branch_limit_fen = IntField(required=True)  # above it, the level above the branch approves
    caps = DictField()  # {kind: fen per member and year}
    notice_days = IntField(required=True)  # the public notice of a hardship file
    updated_by = StringField()
    updated_at = DateTimeField()

    meta = {"db_alias": ALIAS, "collection": "policies"}
