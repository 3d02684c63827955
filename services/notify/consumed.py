"""Events notify consumes, each read through its own minimal schema."""
from __future__ import annotations

import json
from types import SimpleNamespace

from bson import ObjectId
from marshmallow import EXCLUDE, Schema, fields
from pymongo.errors import BulkWriteError

from shared.events.consumer import Batched
from shared.events.envelope import CloudEvent, utcnow
from shared.events.outbox import announce_many, pending_event_son, withdraw
from shared.events.projection import rewrite_paths, upsert_if_newer, upsert_many_if_newer
from shared.pii import Vault

from . import domain
from .documents import Contact, InboxMessage, Recipient
from .keys import pii_vault
from .published import MESSAGE_DELIVERED, message_delivered

MEMBERS_TOPIC = "gonghui.members.v1"
CONTACTS_TOPIC = "gonghui.members.contacts.v1"


class MemberJoined(Schema):
    class Meta:
        unknown = EXCLUDE

    member_id = fields.String(required=True)
    name = fields.String(required=True)
    org_name = fields.String(load_default="")
    org_path = fields.List(fields.String(), required=True)
    card_no = fields.String(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)


_MEMBER_JOINED = MemberJoined()  # built once, not per event


def _inbox_document(member_id: str, org_path: list[str], message: domain.Message) -> dict:
    """The message as InboxMessage.to_mongo() writes it (a test holds the two to the same shape), with
    its message.delivered event; built directly, as notify delivers thousands a second."""
    now = utcnow()
    fields_ = {"member_id": member_id, "org_path": list(org_path), "category": message.category,
               "title": message.title, "body": message.body, "created_at": now}
    pk = ObjectId()
    event = pending_event_son(MESSAGE_DELIVERED, str(pk), message_delivered(SimpleNamespace(pk=pk, **fields_)))
    return {"_id": pk, "outbox": [event], "dedupe_key": message.dedupe_key, **fields_}


def deliver(member_id: str, org_path: list[str], message: domain.Message) -> bool:
    """Put a message in the inbox once; a repeat of the same dedupe key is a no-op."""
    return deliver_many([(member_id, org_path, message)]) == 1


def deliver_many(items: list[tuple[str, list[str], domain.Message]]) -> int:
    """Messages into inboxes in two round trips (their pointers, then the messages); returns how many
    were new (a repeated dedupe key is a no-op)."""
    docs = [_inbox_document(*item) for item in items]
    if not docs:
        return 0
    pointers = announce_many(InboxMessage, docs)  # the events move into the pointers
    try:
        InboxMessage._get_collection().insert_many(docs, ordered=False)
        failed = []
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != 11000 for error in errors):
            raise
        failed = [docs[error["index"]]["_id"] for error in errors]  # delivered before: the dedupe key holds
    withdraw(InboxMessage, [pointers[pk] for pk in failed])
    return len(docs) - len(failed)


def _joined(event: CloudEvent) -> tuple[tuple[str, int, dict], tuple[str, list[str], domain.Message]]:
    data = _MEMBER_JOINED.load(event.data)
    recipient = (data["member_id"], data["version"],
                 {"name": data["name"], "org_path": data["org_path"], "status": data["status"]})
    welcome = domain.welcome(data["member_id"], data["name"], data["org_name"], data["card_no"])
    return recipient, (data["member_id"], data["org_path"], welcome)


def _on_member_joined(event: CloudEvent) -> None:
    recipient, welcome = _joined(event)
    upsert_if_newer(Recipient, *recipient)
    deliver(*welcome)


def _on_members_joined(events: list[CloudEvent]) -> None:
    joined = [_joined(event) for event in events]
    upsert_many_if_newer(Recipient, [recipient for recipient, _ in joined])
    deliver_many([welcome for _, welcome in joined])


on_member_joined = Batched(one=_on_member_joined, many=_on_members_joined)


class MemberChanged(Schema):
    class Meta:
        unknown = EXCLUDE

    member_id = fields.String(required=True)
    name = fields.String(required=True)
    org_path = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)


_MEMBER_CHANGED = MemberChanged()  # built once, not per event


class OrganisationMoved(Schema):
    class Meta:
        unknown = EXCLUDE

    old_path = fields.List(fields.String(), required=True)
    path = fields.List(fields.String(), required=True)


_ORGANISATION_MOVED = OrganisationMoved()  # built once, not per event


def _recipient(event: CloudEvent) -> tuple[str, int, dict]:
    data = _MEMBER_CHANGED.load(event.data)
    return data["member_id"], data["version"], {"name": data["name"], "org_path": data["org_path"],
                                                "status": data["status"]}


on_member_changed = Batched(
    one=lambda event: upsert_if_newer(Recipient, *_recipient(event)),
    many=lambda events: upsert_many_if_newer(Recipient, [_recipient(e) for e in events]))


def on_organisation_moved(event: CloudEvent) -> None:
    data = _ORGANISATION_MOVED.load(event.data)
    rewrite_paths(Recipient, "org_path", data["old_path"], data["path"])


HANDLERS = {
    "gonghui.members.member.joined": on_member_joined,
    **{f"gonghui.members.member.{name}": on_member_changed
       for name in ("applied", "application_rejected", "updated", "status_changed", "left")},
    "gonghui.members.organisation.moved": on_organisation_moved,
}


CONTACT_EVENTS = ("gonghui.members.contact.changed",)


class ContactChanged(Schema):
    """contact.changed v2 carries ``sealed`` (the values, encrypted with the contact keys); v1 carried
    them in clear and may still wait on the topic after an upgrade."""

    class Meta:
        unknown = EXCLUDE

    member_id = fields.String(required=True)
    sealed = fields.String(load_default=None)
    phone = fields.String(load_default=None)
    email = fields.String(load_default=None, allow_none=True)
    version = fields.Integer(required=True)


_CONTACT_CHANGED = ContactChanged()  # built once, not per event


def contact_handlers(settings) -> dict:
    """Contact details arrive sealed with the contact keys (shared with members only) and are stored
    encrypted with notify's own keys."""
    vault = pii_vault(settings)
    opener = Vault(settings.contact_keys, what="GONGHUI_CONTACT_KEYS") if settings.contact_keys else None

    def contact(event: CloudEvent) -> tuple[str, int, dict]:
        data = _CONTACT_CHANGED.load(event.data)
        if data["sealed"] is not None:
            if opener is None:
                raise RuntimeError("a sealed contact event arrived but GONGHUI_CONTACT_KEYS is not set")
            data.update(json.loads(opener.decrypt(data["sealed"])))
        if not data["phone"]:
            raise ValueError("contact.changed without a phone")
        return data["member_id"], data["version"], {
            "phone_encrypted": vault.encrypt(data["phone"]),
            "email_encrypted": vault.encrypt(data["email"]) if data["email"] else None}

    on_contact_changed = Batched(
        one=lambda event: upsert_if_newer(Contact, *contact(event)),
        many=lambda events: upsert_many_if_newer(Contact, [contact(e) for e in events]))

    return dict.fromkeys(CONTACT_EVENTS, on_contact_changed)
