"""Condolence campaigns (慰问, 送温暖), their visits, and life-event payments."""
from __future__ import annotations

from bson import ObjectId
from mongoengine import DateField, DateTimeField, Document, IntField, ListField, ObjectIdField, StringField

from shared.events.outbox import OutboxDocument

from ..domain.condolences import CAMPAIGN_KINDS, CAMPAIGN_STATUSES, LIFE_EVENTS, SOURCES, VISIT_STATUSES
from .views import ALIAS


class Campaign(Document):
    """A campaign over the subtree of ``org_id``, paid from its ``condolences`` budget of ``year``. Its
    visit list is generated in batches (``generated_after``: the last member or file id done), then it is open."""

    id = ObjectIdField(primary_key=True, default=ObjectId)
    org_id = StringField(required=True)
    org_path = ListField(StringField())  # a copy, rewritten when a subtree moves
    name = StringField(required=True, max_length=200)
    kind = StringField(required=True, choices=CAMPAIGN_KINDS)
    source = StringField(required=True, choices=SOURCES)
    employment_types = ListField(StringField())  # members source: only these (empty: every active member)
    amount_fen = IntField(required=True, min_value=1)  # per head
    year = IntField(required=True)
    status = StringField(required=True, choices=CAMPAIGN_STATUSES, default="generating")
    generated_after = StringField()  # generation's position in the source (ids ascending)
    visits = IntField(default=0)  # the visit list's length, counted once it is complete
    created_by = StringField(required=True)
    created_at = DateTimeField(required=True)
    generated_at = DateTimeField()
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "campaigns", "indexes": ["org_path", "org_id", "status"]}


class Visit(OutboxDocument):
    """One household or member to visit. ``key`` (campaign:member) is unique: a retried generation never
    lists anyone twice. Inserted in bulk; recorded once (who visited, when, the amount given, a note)."""

    id = ObjectIdField(primary_key=True, default=ObjectId)
    key = StringField(required=True)
    campaign_id = ObjectIdField(required=True)
    member_id = StringField(required=True)
    file_id = ObjectIdField()  # the hardship file it comes from
    org_id = StringField(required=True)  # the member's branch
    org_path = ListField(StringField())  # a copy, rewritten when a subtree moves
    status = StringField(required=True, choices=VISIT_STATUSES, default="pending")
    amount_fen = IntField()  # given, once recorded
    visited_by = StringField(max_length=200)
    visited_on = DateField()
    note = StringField(max_length=1000)
    entry_id = ObjectIdField()
    recorded_by = StringField()
    recorded_at = DateTimeField()
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "campaign_visits",
            "indexes": [{"fields": ["key"], "unique": True}, ("campaign_id", "org_path"), ("campaign_id", "status"),
                        "org_path", "member_id"]}


class LifeEventPayment(OutboxDocument):
    """A payment for a member's life event; ``key`` (member, kind, day: ``domain.condolences.life_event_key``)
    is unique: one payment per member and event."""

    id = ObjectIdField(primary_key=True, default=ObjectId)
    key = StringField(required=True)
    member_id = StringField(required=True)
    org_id = StringField(required=True)  # the member's branch, whose condolences budget pays
    org_path = ListField(StringField())
    kind = StringField(required=True, choices=LIFE_EVENTS)
    occurred_on = DateField(required=True)
    amount_fen = IntField(required=True, min_value=1)
    entry_id = ObjectIdField(required=True)
    note = StringField(max_length=1000)
    paid_by = StringField(required=True)
    paid_at = DateTimeField(required=True)
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "life_event_payments",
            "indexes": [{"fields": ["key"], "unique": True}, "org_path", "member_id"]}
