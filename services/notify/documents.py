"""The Documents the notify service owns, in its own database: the read models it keeps from the other
services' topics (recipients, organisations, activities and their registrations, congress sessions'
delegates, contacts), the inbox, preferences, announcements, webhooks and the deliveries by email, SMS
and webhook with their attempts."""
from __future__ import annotations

from mongoengine import (
    DateTimeField,
    DictField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ListField,
    StringField,
)

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


class ActivityView(Document):
    """An activity (from activity.published, its registrations' events and activity.cancelled), for its
    reminders: ``next_reminder_at`` is when the next one is due (24 h, then 1 h before it starts), None
    once both went or the activity was cancelled; ``reminded`` names the stages sent."""

    id = StringField(primary_key=True)  # activity id
    title = StringField()
    starts_at = DateTimeField()
    venue = StringField()
    org_path = ListField(StringField())
    status = StringField(default="published")  # published, cancelled
    next_reminder_at = DateTimeField()
    reminded = ListField(StringField())

    meta = {"db_alias": ALIAS, "collection": "activity_views", "indexes": ["next_reminder_at"]}


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


class Webhook(Document):
    """A system's endpoint registered by an organisation's staff: the event types it hears about the
    organisation's subtree, signed with its own secret (encrypted at rest). ``failures`` counts the
    failed attempts in a row; past the limit the hook is disabled until staff enable it again."""

    org_id = StringField(required=True)
    org_path = ListField(StringField(), required=True)
    url = StringField(required=True)
    event_types = ListField(StringField(), required=True)
    description = StringField()
    secret_encrypted = StringField(required=True)
    status = StringField(default="active")  # active, disabled
    failures = IntField(default=0)
    disabled_at = DateTimeField()
    disabled_reason = StringField()
    created_by = StringField()
    created_at = DateTimeField(default=utcnow)

    meta = {"db_alias": ALIAS, "collection": "webhooks", "indexes": [("org_path", "-id"), "event_types"]}


class Attempt(EmbeddedDocument):
    """One try of a delivery: its number, when, how it ended (sent, failed, dead), the error (never an
    address) and how long the receiver took."""

    number = IntField(required=True)
    at = DateTimeField(required=True)
    status = StringField(required=True)
    error = StringField()
    took_ms = IntField()


class Delivery(OutboxDocument):
    """A message to send by email or SMS to a member, or an event to a webhook: one per ``key`` (event ×
    recipient × channel), however often the event is replayed. The sender claims due ones (``status``
    pending or retrying, ``next_at`` passed; or sending with its lease run out), sends, and records each
    attempt; a failed one is retried with backoff, then dead. Addresses are not kept here: the sender
    reads them from the contacts (or the hook) when it sends."""

    key = StringField(required=True, unique=True)
    channel = StringField(required=True)  # email, sms, webhook
    event_type = StringField(required=True)
    event_id = StringField(required=True)
    member_id = StringField()  # email, sms
    hook_id = StringField()  # webhook
    org_path = ListField(StringField(), required=True)  # the recipient's (the hook's organisation's)
    category = StringField()
    subject = StringField()
    body = StringField(required=True)  # the text (email, SMS), or the JSON sent to a hook
    status = StringField(required=True, default="pending")  # pending, sending, retrying, sent, dead
    next_at = DateTimeField(required=True)
    lease_until = DateTimeField()
    claim = StringField()
    attempts = IntField(default=0)
    tries = ListField(EmbeddedDocumentField(Attempt))
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField()

    meta = {"db_alias": ALIAS, "collection": "deliveries",
            "indexes": [("status", "next_at"), "claim", ("org_path", "-id"), ("member_id", "-id"),
                        ("hook_id", "-id"), ("event_id", "channel")]}


# org_path copies a move of a subtree rewrites
PATH_COPIES = [(Recipient, "org_path"), (Announcement, "org_path"), (Webhook, "org_path")]

ALL = [Recipient, OrgView, RegistrationView, ActivityView, SessionView, Contact, InboxMessage, Preference,
       Announcement, Webhook, Delivery]
