"""Events notify consumes, each read through its own minimal schema."""
from __future__ import annotations

from bson import ObjectId
from marshmallow import EXCLUDE, Schema, fields
from mongoengine import NotUniqueError

from shared.events.envelope import CloudEvent
from shared.events.projection import rewrite_paths, upsert_if_newer
from shared.pii import Vault

from . import domain
from .documents import Contact, InboxMessage, Recipient
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


def deliver(member_id: str, org_path: list[str], message: domain.Message) -> bool:
    """Put a message in the inbox once; a repeat of the same dedupe key is a no-op."""
    inbox = InboxMessage(id=ObjectId(), dedupe_key=message.dedupe_key, member_id=member_id, org_path=org_path,
                         category=message.category, title=message.title, body=message.body)
    inbox.record(MESSAGE_DELIVERED, message_delivered(inbox))
    try:
        inbox.save(force_insert=True)
    except NotUniqueError:
        return False
    return True


def on_member_joined(event: CloudEvent) -> None:
    data = MemberJoined().load(event.data)
    upsert_if_newer(Recipient, data["member_id"], data["version"],
                    {"name": data["name"], "org_path": data["org_path"], "status": data["status"]})
    deliver(data["member_id"], data["org_path"],
            domain.welcome(data["member_id"], data["name"], data["org_name"], data["card_no"]))


class MemberChanged(Schema):
    class Meta:
        unknown = EXCLUDE

    member_id = fields.String(required=True)
    name = fields.String(required=True)
    org_path = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)


class OrganisationMoved(Schema):
    class Meta:
        unknown = EXCLUDE

    old_path = fields.List(fields.String(), required=True)
    path = fields.List(fields.String(), required=True)


def on_member_changed(event: CloudEvent) -> None:
    data = MemberChanged().load(event.data)
    upsert_if_newer(Recipient, data["member_id"], data["version"],
                    {"name": data["name"], "org_path": data["org_path"], "status": data["status"]})


def on_organisation_moved(event: CloudEvent) -> None:
    data = OrganisationMoved().load(event.data)
    rewrite_paths(Recipient, "org_path", data["old_path"], data["path"])


HANDLERS = {
    "gonghui.members.member.joined": on_member_joined,
    **{f"gonghui.members.member.{name}": on_member_changed
       for name in ("applied", "application_rejected", "updated", "status_changed", "left")},
    "gonghui.members.organisation.moved": on_organisation_moved,
}



class ContactChanged(Schema):
    class Meta:
        unknown = EXCLUDE

    member_id = fields.String(required=True)
    phone = fields.String(required=True)
    email = fields.String(load_default=None, allow_none=True)
    version = fields.Integer(required=True)


def contact_handlers(settings) -> dict:
    """Contact details are stored encrypted with notify's own key."""
    vault = Vault(settings.pii_key)

    def on_contact_changed(event: CloudEvent) -> None:
        data = ContactChanged().load(event.data)
        upsert_if_newer(Contact, data["member_id"], data["version"],
                        {"phone_encrypted": vault.encrypt(data["phone"]),
                         "email_encrypted": vault.encrypt(data["email"]) if data["email"] else None})

    return {"gonghui.members.contact.changed": on_contact_changed}
