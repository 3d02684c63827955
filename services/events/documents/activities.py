"""Activities and their registrations."""
from __future__ import annotations

from bson import ObjectId
from mongoengine import (
    BooleanField,
    DateTimeField,
    FloatField,
    IntField,
    ListField,
    ObjectIdField,
    StringField,
)

from shared.events.outbox import OutboxDocument

from ..domain import ACTIVITY_KINDS, ACTIVITY_STATUSES, REGISTRATION_STATUSES
from .views import ALIAS


class Activity(OutboxDocument):
    id = ObjectIdField(primary_key=True, default=ObjectId)
    title = StringField(required=True, max_length=200)
    kind = StringField(required=True, choices=ACTIVITY_KINDS)
    description = StringField(max_length=5000)
    venue = StringField(max_length=200)
    organiser_id = StringField(required=True)
    org_path = ListField(StringField())  # the organiser's path (a copy, rewritten when a subtree moves)
    audience_org_id = StringField(required=True)
    audience_genders = ListField(StringField())
    audience_employment_types = ListField(StringField())
    audience_honours = ListField(StringField())
    starts_at = DateTimeField(required=True)
    ends_at = DateTimeField(required=True)
    registration_opens_at = DateTimeField(required=True)
    registration_closes_at = DateTimeField(required=True)
    cancellation_deadline = DateTimeField(required=True)
    capacity = IntField()  # None: no limit
    status = StringField(required=True, choices=ACTIVITY_STATUSES, default="draft")
    cancel_reason = StringField()
    confirmed = IntField(default=0)
    free = IntField()  # capacity - confirmed (below 0 after a capacity cut); None: no limit
    waiting = IntField(default=0)
    tickets = IntField(default=0)  # the last ticket handed out: first come, first served
    changes = IntField(default=0)  # every change of the counts (guards a recount)
    changed_at = DateTimeField()
    checkin_secret = StringField(required=True)  # base32, for the rotating code shown at the venue
    no_shows = IntField()
    created_by = StringField()
    created_at = DateTimeField(required=True)
    updated_at = DateTimeField()
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "activities",
            "indexes": ["org_path", ("audience_org_id", "status"), "changed_at"]}


class Registration(OutboxDocument):
    id = ObjectIdField(primary_key=True, default=ObjectId)
    activity_id = ObjectIdField(required=True)
    member_id = StringField(required=True)
    org_path = ListField(StringField())  # the member's path when it registered (staff scope)
    status = StringField(required=True, choices=REGISTRATION_STATUSES)
    ticket = IntField(required=True)
    registered_at = DateTimeField(required=True)
    registered_by = StringField()
    promoted_at = DateTimeField()
    cancelled_at = DateTimeField()
    cancelled_by = StringField()
    checked_in_at = DateTimeField()
    checked_in_by = StringField()  # "code" or the staff member's sub
    checkin_failures = IntField(default=0)
    no_show = BooleanField(default=False)
    score = FloatField()
    rank = IntField()
    award = StringField(max_length=100)
    honour = StringField()
    awarded_at = DateTimeField()
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "registrations",
            "indexes": [{"fields": ("activity_id", "member_id"), "unique": True},
                        ("activity_id", "status", "ticket"), "member_id", "org_path"]}
