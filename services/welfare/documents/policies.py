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


class LifeEventSchedule(Document):
    """The amounts an organisation pays for life events below it (nearest on the path applies)."""
    id = StringField(primary_key=True)  # the organisation's id
    amounts = DictField()  # {life event: fen}
    updated_by = StringField()
    updated_at = DateTimeField()

    meta = {"db_alias": ALIAS, "collection": "life_event_schedules"}


class MutualAidScheme(Document):
    """The terms of the mutual medical aid an organisation runs for the members below it."""
    id = StringField(primary_key=True)  # the organisation's id
    rate_percent = IntField(required=True)
    deductible_fen = IntField(required=True)
    cap_fen = IntField(required=True)
    contribution_fen = IntField(required=True)
    updated_by = StringField()
    updated_at = DateTimeField()

    meta = {"db_alias": ALIAS, "collection": "mutual_aid_schemes"}
