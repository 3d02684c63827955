"""Events notify consumes, each read through its own minimal schema."""
from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace

from bson import ObjectId
from marshmallow import EXCLUDE, Schema, fields
from pymongo import UpdateOne

from shared import readmodels
from shared.db import insert_new
from shared.events.consumer import Batched
from shared.events.envelope import CloudEvent, utcnow
from shared.events.outbox import announce_many, pending_event_son, withdraw
from shared.events.projection import upsert_if_newer, upsert_many_if_newer
from shared.pii import Vault
from shared.readmodels import OrganisationChanged  # noqa: F401 (its schema of the organisation events)

from . import domain
from .app.hooks import hook_deliveries
from .app.outgoing import queue
from .app.reach import Reach
from .documents import PATH_COPIES, ActivityView, Contact, InboxMessage, OrgView, Recipient, RegistrationView, SessionView
from .domain.reminders import next_reminder_at
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


def _inbox_document(member_id: str | None, org_path: list[str], message: domain.Message,
                    org_id: str | None = None, announcement_id: str | None = None) -> dict:
    """The message as InboxMessage.to_mongo() writes it (a test holds the two to the same shape), with
    its message.delivered event (a member's messages only); built directly, as notify delivers thousands a
    second. An organisation's message has ``org_id`` instead of ``member_id``."""
    now = utcnow()
    fields_ = {"member_id": member_id, "org_path": list(org_path), "category": message.category,
               "title": message.title, "body": message.body, "created_at": now}
    if member_id is None:
        del fields_["member_id"]
        fields_ = {"org_id": org_id, **fields_}
    if announcement_id is not None:
        fields_["announcement_id"] = announcement_id
    pk = ObjectId()
    outbox = []
    if member_id is not None:
        outbox = [pending_event_son(MESSAGE_DELIVERED, str(pk),
                                    message_delivered(SimpleNamespace(pk=pk, **fields_)))]
    return {"_id": pk, "outbox": outbox, "dedupe_key": message.dedupe_key, **fields_}


def deliver_many(items: list[tuple], announcement_id: str | None = None) -> int:
    """Messages into inboxes in two round trips (their pointers, then the messages); returns how many
    were new (a repeated dedupe key is a no-op). Each item is (member_id, org_path, message) or
    (None, org_path, message, org_id)."""
    docs = [_inbox_document(*item, announcement_id=announcement_id) for item in items]
    if not docs:
        return 0
    pointers = announce_many(InboxMessage, docs)  # the events move into the pointers
    # those delivered before (the dedupe key holds) are skipped, and their pointers withdrawn
    failed = [docs[i]["_id"] for i in insert_new(InboxMessage._get_collection(), docs)]
    withdraw(InboxMessage, [pointers[pk] for pk in failed if pk in pointers])
    return len(docs) - len(failed)


def _joined(event: CloudEvent) -> tuple[tuple[str, int, dict], tuple[str, list[str], domain.Message]]:
    data = _MEMBER_JOINED.load(event.data)
    recipient = (data["member_id"], data["version"],
                 {"name": data["name"], "org_path": data["org_path"], "status": data["status"]})
    welcome = domain.welcome(data["member_id"], data["name"], data["org_name"], data["card_no"])
    return recipient, (data["member_id"], data["org_path"], welcome)


def _on_members_joined(events: list[CloudEvent]) -> None:
    joined = [_joined(event) for event in events]
    upsert_many_if_newer(Recipient, [recipient for recipient, _ in joined])
    queue(hook_deliveries([(event, [welcome[1]]) for event, (_, welcome) in zip(events, joined, strict=True)]))
    deliver_many([welcome for _, welcome in joined])


on_member_joined = Batched(one=lambda event: _on_members_joined([event]), many=_on_members_joined)


class MemberChanged(Schema):
    class Meta:
        unknown = EXCLUDE

    member_id = fields.String(required=True)
    name = fields.String(required=True)
    org_path = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    gender = fields.String(load_default=None)
    employment_type = fields.String(load_default=None)
    version = fields.Integer(required=True)


_MEMBER_CHANGED = MemberChanged()  # built once, not per event


def _recipient(event: CloudEvent) -> tuple[str, int, dict]:
    data = _MEMBER_CHANGED.load(event.data)
    return data.pop("member_id"), data.pop("version"), data


on_member_changed = Batched(
    one=lambda event: upsert_if_newer(Recipient, *_recipient(event)),
    many=lambda events: upsert_many_if_newer(Recipient, [_recipient(e) for e in events]))


# --- messages from the other services' events, each type read through its own minimal schema ---------

def _text(**kw):
    return fields.String(load_default=None, allow_none=True, **kw)


class _Minimal(Schema):
    class Meta:
        unknown = EXCLUDE


class StatusChanged(_Minimal):
    member_id = fields.String(required=True)
    status = fields.String(required=True)
    action = fields.String(required=True)
    from_status = _text()
    reason = _text()


class TransferChanged(_Minimal):
    transfer_id = fields.String(required=True)
    member_id = fields.String(required=True)
    from_org_id = fields.String(required=True)
    to_org_id = fields.String(required=True)
    to_org_path = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    requested_at = fields.String(required=True)
    expires_at = fields.String(required=True)
    decided_at = _text()
    reason = _text()


class ReviewOpened(_Minimal):
    review_id = fields.String(required=True)
    member_id = fields.String(required=True)
    org_id = fields.String(required=True)
    org_path = fields.List(fields.String(), required=True)
    evaluated_month = fields.String(required=True)
    window = fields.List(fields.String(), required=True)


class RegistrationChanged(_Minimal):
    registration_id = fields.String(required=True)
    activity_id = fields.String(required=True)
    member_id = fields.String(required=True)
    title = fields.String(required=True)
    starts_at = fields.String(required=True)
    venue = _text()
    status = fields.String(required=True)
    ticket = fields.Integer(load_default=None, allow_none=True)
    version = fields.Integer(required=True)


class ActivityCancelled(_Minimal):
    activity_id = fields.String(required=True)
    title = fields.String(required=True)
    starts_at = fields.String(required=True)
    venue = _text()
    reason = _text()


class SessionCalled(_Minimal):
    session_id = fields.String(required=True)
    congress_name = fields.String(required=True)
    term_number = fields.Integer(required=True)
    session_number = fields.Integer(required=True)
    held_on = fields.String(required=True)
    venue = _text()
    agenda = fields.List(fields.String(), load_default=list)
    delegate_ids = fields.List(fields.String(), required=True)
    version = fields.Integer(required=True)


class ProposalDecided(_Minimal):
    proposal_id = fields.String(required=True)
    proposer_id = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    reason = _text()
    department = _text()
    answer = _text()
    accepted_at = _text()
    declined_at = _text()
    answered_at = _text()


class BallotClosed(_Minimal):
    ballot_id = fields.String(required=True)
    session_id = fields.String(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True)
    delegates = fields.Integer(required=True)
    cast = fields.Integer(required=True)
    tally = fields.Dict(load_default=dict)
    passed = fields.Boolean(load_default=None, allow_none=True)


class AwardGranted(_Minimal):
    award_id = fields.String(required=True)
    member_id = fields.String(required=True)
    activity_title = fields.String(required=True)
    award = fields.String(required=True)


class SuggestionReviewed(_Minimal):
    suggestion_id = fields.String(required=True)
    member_id = fields.String(required=True)
    title = fields.String(required=True)
    adopted = fields.Boolean(required=True)
    reward_fen = fields.Integer(load_default=None, allow_none=True)


class ApplicationDecided(_Minimal):
    application_id = fields.String(required=True)
    member_id = fields.String(required=True)
    org_id = fields.String(required=True)
    kind = fields.String(required=True)
    amount_fen = fields.Integer(required=True)
    status = fields.String(required=True)
    decided_at = _text()
    reason = _text()


class DisbursementMade(_Minimal):
    application_id = fields.String(required=True)
    member_id = fields.String(required=True)
    kind = fields.String(required=True)
    amount_fen = fields.Integer(required=True)
    disbursed_at = fields.String(required=True)


class HardshipFileDecided(_Minimal):
    file_id = fields.String(required=True)
    member_id = fields.String(required=True)
    decision = fields.String(required=True)
    review_on = _text()
    decided_at = _text()


class LifeEventPaid(_Minimal):
    payment_id = fields.String(required=True)
    member_id = fields.String(required=True)
    kind = fields.String(required=True)
    amount_fen = fields.Integer(required=True)
    paid_at = fields.String(required=True)


class CampaignVisitRecorded(_Minimal):
    visit_id = fields.String(required=True)
    member_id = fields.String(required=True)
    campaign_kind = fields.String(required=True)
    amount_fen = fields.Integer(required=True)
    visited_on = fields.String(required=True)


class NoticeChanged(_Minimal):
    file_id = fields.String(required=True)
    member_id = fields.String(required=True)
    opens_at = _text()
    closes_at = _text()
    closed_at = _text()
    objections = fields.Integer(load_default=None, allow_none=True)


class ObjectionLodged(_Minimal):
    objection_id = fields.String(required=True)
    file_id = fields.String(required=True)
    org_id = fields.String(required=True)
    lodged_at = fields.String(required=True)


M, E, W = "gonghui.members.", "gonghui.events.", "gonghui.welfare."

# each type notify tells someone about: its schema, and who hears it ("member:<field>" a member id,
# "members:<field>" a list of them, "org:<field>" an organisation's staff; the rest are read models)
_member = "member:member_id"
ROUTES: dict[str, tuple[Schema, str]] = {
    M + "member.status_changed": (StatusChanged(), _member),
    M + "transfer.requested": (TransferChanged(), "org:to_org_id"),
    M + "transfer.accepted": (TransferChanged(), _member),
    M + "transfer.declined": (TransferChanged(), _member),
    M + "transfer.expired": (TransferChanged(), _member),
    M + "review.opened": (ReviewOpened(), "org:org_id"),
    **{E + f"registration.{name}": (RegistrationChanged(), _member)
       for name in ("confirmed", "waitlisted", "promoted", "cancelled")},
    E + "activity.cancelled": (ActivityCancelled(), "registrants"),
    E + "congress.session_called": (SessionCalled(), "members:delegate_ids"),
    **{E + f"proposal.{name}": (ProposalDecided(), "member:proposer_id") for name in ("accepted", "declined",
                                                                                     "answered")},
    E + "ballot.closed": (BallotClosed(), "delegates"),
    E + "award.granted": (AwardGranted(), _member),
    E + "suggestion.reviewed": (SuggestionReviewed(), _member),
    **{W + f"application.{name}": (ApplicationDecided(), _member) for name in ("reviewed", "approved", "rejected")},
    W + "disbursement.made": (DisbursementMade(), _member),
    W + "hardship_file.decided": (HardshipFileDecided(), _member),
    W + "life_event.paid": (LifeEventPaid(), _member),
    W + "campaign_visit.recorded": (CampaignVisitRecorded(), _member),
    W + "notice.opened": (NoticeChanged(), _member),
    W + "notice.closed": (NoticeChanged(), _member),
    W + "objection.lodged": (ObjectionLodged(), "org:org_id"),
}
STILL_REGISTERED = ("confirmed", "waitlisted")


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _activity_upkeep(activity_id: str, title: str, starts_at: str, venue: str | None) -> UpdateOne:
    """An activity as its events tell it (published, or any registration's copy of it); its first
    reminder falls due 24 hours before it starts."""
    starts = _moment(starts_at)
    return UpdateOne({"_id": activity_id}, {
        "$set": {"title": title, "starts_at": starts, "venue": venue},
        "$setOnInsert": {"status": "published", "reminded": [], "next_reminder_at": next_reminder_at(starts)}},
        upsert=True)


def _keep_read_models(loaded: list[tuple[CloudEvent, dict]]) -> None:
    """Registrations by activity, activities (for their reminders) and sessions' delegates, before anyone
    is told (a poll's cancellation then reaches the registrations that came before it)."""
    registrations, sessions, activities = [], [], []
    for event, data in loaded:
        if event.type.startswith(E + "registration."):
            registrations.append((data["registration_id"], data["version"], {
                "activity_id": data["activity_id"], "member_id": data["member_id"], "status": data["status"]}))
            activities.append(_activity_upkeep(data["activity_id"], data["title"], data["starts_at"], data["venue"]))
        elif event.type == E + "activity.cancelled":
            activities.append(UpdateOne({"_id": data["activity_id"]}, {
                "$set": {"status": "cancelled", "next_reminder_at": None, "title": data["title"],
                         "starts_at": _moment(data["starts_at"]), "venue": data["venue"]},
                "$setOnInsert": {"reminded": []}}, upsert=True))
        elif event.type == E + "congress.session_called":
            sessions.append((data["session_id"], data["version"], {"delegate_ids": data["delegate_ids"]}))
    if registrations:
        upsert_many_if_newer(RegistrationView, registrations)
    if activities:
        ActivityView._get_collection().bulk_write(activities, ordered=True)
    if sessions:
        upsert_many_if_newer(SessionView, sessions)


class ActivityPublished(_Minimal):
    activity_id = fields.String(required=True)
    title = fields.String(required=True)
    starts_at = fields.String(required=True)
    venue = _text()


_ACTIVITY_PUBLISHED = ActivityPublished()


def _activities_published(events: list[CloudEvent]) -> None:
    rows = [_ACTIVITY_PUBLISHED.load(event.data) for event in events]
    ActivityView._get_collection().bulk_write([_activity_upkeep(**row) for row in rows], ordered=True)


on_activity_published = Batched(one=lambda event: _activities_published([event]), many=_activities_published)


def _audience(event: CloudEvent, data: dict) -> tuple[list[str], list[str]]:
    """(member ids, organisation ids) who hear of an event."""
    how = ROUTES[event.type][1]
    if how.startswith("member:"):
        return [data[how.split(":")[1]]], []
    if how.startswith("members:"):
        return list(dict.fromkeys(data[how.split(":")[1]])), []
    if how.startswith("org:"):
        return [], [data[how.split(":")[1]]]
    if how == "registrants":
        rows = RegistrationView._get_collection().find(
            {"activity_id": data["activity_id"], "status": {"$in": list(STILL_REGISTERED)}}, {"member_id": 1})
        return sorted({row["member_id"] for row in rows}), []
    if how == "delegates":
        session = SessionView._get_collection().find_one({"_id": data["session_id"]}, {"delegate_ids": 1})
        return list((session or {}).get("delegate_ids") or []), []
    raise ValueError(f"no audience for {event.type}")


def _org_names(ids: set[str]) -> dict[str, dict]:
    if not ids:
        return {}
    return {row["_id"]: row for row in OrgView._get_collection().find({"_id": {"$in": list(ids)}},
                                                                          {"name": 1, "path": 1})}


def messages_for(events: list[CloudEvent]) -> tuple[list[tuple], list[dict]]:
    """The inbox items (for ``deliver_many``) and the email, SMS and webhook deliveries (for ``queue``) of
    a batch of events, with the recipients' names and organisations' names from the read models, each
    through the channels its member chose, and to the hooks on the paths of those it concerns."""
    from .domain.templates import TEMPLATES, render

    loaded = [(event, ROUTES[event.type][0].load(event.data)) for event in events]
    _keep_read_models(loaded)
    audiences = [(event, data, *_audience(event, data)) for event, data in loaded]
    member_ids = {m for _, _, members, _ in audiences for m in members}
    org_ids = {o for _, _, _, orgs in audiences for o in orgs}
    org_ids |= {v for _, data, _, _ in audiences for k, v in data.items() if k.endswith("org_id") and v}
    recipients = {row["_id"]: row for row in Recipient._get_collection().find(
        {"_id": {"$in": list(member_ids)}}, {"name": 1, "org_path": 1})} if member_ids else {}
    reach = Reach.load(member_ids)
    orgs = _org_names(org_ids)
    items, deliveries, hooked = [], [], []
    for event, data, members, org_targets in audiences:
        template = TEMPLATES[event.type]
        paths = []
        names = {k[:-3] + "_name": orgs.get(v, {}).get("name", "") for k, v in data.items()
                 if k.endswith("org_id") and v}
        for member_id in members:
            recipient = recipients.get(member_id) or {}
            extra = {**names, "name": recipient.get("name") or ""}
            path = recipient.get("org_path") or []
            paths.append(path)
            if reach.wants(member_id, template.category, "inbox"):
                message = domain.from_template(event.type, event.id, member_id, data, extra)
                items.append((member_id, path, message))
            deliveries += reach.deliveries(
                event_type=event.type, event_id=event.id, member_id=member_id, org_path=path,
                category=template.category,
                render=lambda channel, t=template, d=data, x=extra: render(t, channel, d, extra=x))
        for org_id in org_targets:
            path = orgs.get(org_id, {}).get("path") or data.get("to_org_path") or data.get("org_path") or [org_id]
            message = domain.from_template(event.type, event.id, f"org:{org_id}", data, names)
            items.append((None, list(path), message, org_id))
            paths.append(list(path))
        hooked.append((event, paths))
    return items, deliveries + hook_deliveries(hooked)


def _notify(events: list[CloudEvent]) -> None:
    items, deliveries = messages_for(events)
    queue(deliveries)  # before the inbox: a crash in between is repeated, and both are once per key
    deliver_many(items)


on_notice = Batched(one=lambda event: _notify([event]), many=_notify)


def _status_changed(events: list[CloudEvent]) -> None:
    on_member_changed.many(events)
    _notify(events)


on_status_changed = Batched(one=lambda event: _status_changed([event]), many=_status_changed)


HANDLERS = {
    "gonghui.members.member.joined": on_member_joined,
    **{f"gonghui.members.member.{name}": on_member_changed
       for name in ("applied", "application_rejected", "updated", "left")},
    "gonghui.members.member.status_changed": on_status_changed,  # the read model, then the member's message
    **readmodels.organisation_handlers(OrgView, PATH_COPIES),
    **{event_type: on_notice for event_type in ROUTES if event_type != M + "member.status_changed"},
    E + "activity.published": on_activity_published,  # an activity's reminders
}
EVENTS_TOPIC, WELFARE_TOPIC = "gonghui.events.v1", "gonghui.welfare.v1"


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
