"""The Documents the notify service owns, in its own database."""
from __future__ import annotations

from mongoengine import DateTimeField, Document, IntField, ListField, StringField

from shared.events.envelope import utcnow
from shared.events.outbox import OutboxDocument

ALIAS = "notify"


class Recipient(Document):
    """notify's own minimal copy of a member: who they are and where in the tree."""

    id = StringField(primary_key=True)
    name = StringField()
    org_path = ListField(StringField())
    status = StringField()
    version = IntField()

    meta = {"db_alias": ALIAS, "collection": "recipients"}


class Contact(Document):
    """How to reach a member by SMS or email (from gonghui.members.contacts.v1), encrypted at rest."""

    id = StringField(primary_key=True)  # member id
    phone_encrypted = StringField()
    email_encrypted = StringField()
    version = IntField()

    meta = {"db_alias": ALIAS, "collection": "contacts"}


class InboxMessage(OutboxDocument):
    dedupe_key = StringField(required=True, unique=True)
    member_id = StringField(required=True)
    org_path = ListField(StringField(), required=True)
    category = StringField(required=True)
    title = StringField(required=True)
    body = StringField(required=True)
    created_at = DateTimeField(default=utcnow)
    read_at = DateTimeField()

    meta = {"db_alias": ALIAS, "collection": "inbox_messages", "indexes": [("member_id", "-id")]}


ALL = [Recipient, Contact, InboxMessage]
