"""The Documents the notify service owns, in its own database: the read models it keeps from the other
services' topics (recipients, organisations, registrations by activity, congress sessions' delegates,
contacts), the inbox, preferences and announcements."""
from __future__ import annotations

from mongoengine import DateTimeField, DictField, Document, IntField, ListField, StringField

from shared.events.envelope import utcnow
from shared.events.outbox import OutboxDocument
from shared.readmodels import OrgViewBase

ALIAS = "notify"


class Recipient(Document):
    """notify's own minimal copy of a member: who they are, where in the tree, and what announcements
    may be narrowed by (gender, employment type). Announcements walk it by organisation, in id order."""

    id = StringField(primary_key=True)
    name = StringField()
    org_path = ListField(StringField())
    status = StringField()
    gender = StringField()
    employment_type = StringField()
    version = IntField()

    meta = {"db_alias": ALIAS, "collection": "recipients", "indexes": [("org_path", "id")]}


class OrgView(OrgViewBase):
    """An organisation: its path (staff scope, announcements' subtree), name (in messages), status."""

    meta = {"db_alias": ALIAS, "collection": "org_views"}


class RegistrationView(Document):
    """A registration for an activity (from registration.*), to tell its registrants a cancellation."""

    id = StringField(primary_key=True)  # registration id
    activity_id = StringField(required=True)
    member_id = StringField(required=True)
    status = StringField()
    version = IntField()

    meta = {"db_alias": ALIAS, "collection": "registration_views", "indexes": [("activity_id", "status")]}


class SessionView(Document):
    """A congress session's delegates (from congress.session_called), to tell them a ballot's result."""

    id = StringField(primary_key=True)  # session id
    delegate_ids = ListField(StringField())
    version = IntField()

    meta = {"db_alias": ALIAS, "collection": "session_views"}


class Contact(Document):
    """How to reach a member by SMS or email (from gonghui.members.contacts.v1), encrypted at rest."""

    id = StringField(primary_key=True)  # member id
    phone_encrypted = StringField()
    email_encrypted = StringField()
    version = IntField()

    meta = {"db_alias": ALIAS, "collection": "contacts"}


class InboxMessage(OutboxDocument):
    """A message in a member's inbox (``member_id``), or in an organisation's inbox for its staff
    (``org_id``: transfers to decide, reviews to hold, objections lodged)."""

    dedupe_key = StringField(required=True, unique=True)
    member_id = StringField()
    org_id = StringField()
    org_path = ListField(StringField(), required=True)
    category = StringField(required=True)
    title = StringField(required=True)
    body = StringField(required=True)
    announcement_id = StringField()
    created_at = DateTimeField(default=utcnow)
    read_at = DateTimeField()

    meta = {"db_alias": ALIAS, "collection": "inbox_messages",
            "indexes": [("member_id", "-id"), ("member_id", "read_at"), ("org_id", "-id")]}


class Preference(Document):
    """A member's choices: channels per category (only what differs from the defaults) and quiet hours."""

    id = StringField(primary_key=True)  # member id
    channels = DictField()
    quiet_start = StringField(default="22:00")
    quiet_end = StringField(default="07:00")
    updated_at = DateTimeField(default=utcnow)

    meta = {"db_alias": ALIAS, "collection": "preferences"}


class Announcement(Document):
    """An announcement (厂务公开, 校务公开, 工会简报) to an organisation's subtree, fanned out by the
    worker in batches of members in id order (``cursor``: the last member reached); ``recipients`` and
    ``read`` count the messages delivered and read."""

    org_id = StringField(required=True)
    org_path = ListField(StringField(), required=True)
    kind = StringField(required=True)
    title = StringField(required=True)
    body = StringField(required=True)
    genders = ListField(StringField())
    employment_types = ListField(StringField())
    created_by = StringField()
    created_at = DateTimeField(default=utcnow)
    status = StringField(default="sending")  # sending, sent
    cursor = StringField()
    recipients = IntField(default=0)
    read = IntField(default=0)
    sent_at = DateTimeField()

    meta = {"db_alias": ALIAS, "collection": "announcements", "indexes": ["status", ("org_path", "-id")]}


# org_path copies a move of a subtree rewrites
PATH_COPIES = [(Recipient, "org_path"), (Announcement, "org_path")]

ALL = [Recipient, OrgView, RegistrationView, SessionView, Contact, InboxMessage, Preference, Announcement]
