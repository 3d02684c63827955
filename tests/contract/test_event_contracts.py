"""Every published event validates against its schema; every consumer's own
schema accepts the producer's examples; no schema can carry personal data."""
import importlib
import json
from datetime import datetime, timezone

import pytest
from bson import ObjectId
from marshmallow import Schema

from services.events import published as events_published
from services.members import published as members_published
from services.members.documents import Member, Organisation
from services.notify import published as notify_published
from services.notify.documents import InboxMessage
from services.welfare import published as welfare_published

pytestmark = pytest.mark.contract

PUBLISHED = members_published.ALL + notify_published.ALL + events_published.ALL + welfare_published.ALL
SENSITIVE = {"id_number", "phone", "mobile", "id_number_encrypted", "phone_encrypted", "email",
             # welfare: health, income and household circumstances, objections (never published)
             "details", "details_encrypted", "health", "causes", "household_size", "income_per_head_fen", "findings",
             "visit_encrypted", "text", "text_encrypted"}


@pytest.mark.parametrize("event_type", PUBLISHED, ids=lambda t: t.name)
def test_schemas_are_valid_and_their_examples_validate(event_type):
    assert event_type.schema["$id"] == event_type.dataschema
    assert event_type.schema.get("additionalProperties") is False  # nothing undeclared leaks out
    for example in event_type.schema["examples"]:
        event_type.validate(example)


CONTACT_TYPES = {members_published.CONTACT_CHANGED}


@pytest.mark.parametrize("event_type", PUBLISHED, ids=lambda t: t.name)
def test_no_schema_declares_personal_data(event_type):
    """Contact events included: their values travel sealed (contact.changed v2)."""
    assert not SENSITIVE & set(event_type.schema["properties"])


def test_contact_events_carry_their_values_sealed_for_notify_only():
    from shared.pii import Vault, new_key

    seal = Vault(new_key())
    member = Member(id=ObjectId(), version=2)
    data = members_published.contact_changed(member, "13800001111", "a@example.cn", seal)
    members_published.CONTACT_CHANGED.validate(data)
    assert "13800001111" not in json.dumps(data) and "a@example.cn" not in json.dumps(data)
    assert json.loads(seal.decrypt(data["sealed"])) == {"phone": "13800001111", "email": "a@example.cn"}
    from cryptography.fernet import InvalidToken

    with pytest.raises(InvalidToken):
        Vault(new_key()).decrypt(data["sealed"])  # another key (e.g. a members PII key) cannot open it


def test_contact_details_travel_only_on_their_own_topic():
    for event_type in CONTACT_TYPES:
        assert members_published.ROUTES[event_type.name] == members_published.CONTACTS_TOPIC
        assert event_type.schema["x-gonghui-topic"] == members_published.CONTACTS_TOPIC
    assert set(members_published.ROUTES) == {t.name for t in CONTACT_TYPES}


def _org():
    fed = ObjectId()
    org = Organisation(id=ObjectId(), name="某公司工会", kind="grassroots", parent_id=str(fed))
    org.path = [str(fed), str(org.pk)]
    return org


def test_what_members_builds_validates():
    org = _org()
    org.credit_code, org.headcount = "91350100M000100Y43", 300
    members_published.ORGANISATION_CREATED.validate(members_published.organisation_created(org))
    members_published.ORGANISATION_UPDATED.validate(members_published.organisation_updated(org, ["name"]))
    members_published.ORGANISATION_MOVED.validate(members_published.organisation_moved(org, ["x", str(org.pk)]))
    org.status, org.closed_at = "closed", datetime.now(timezone.utc)
    members_published.ORGANISATION_CLOSED.validate(members_published.organisation_closed(org))
    member = Member(id=ObjectId(), name="李四", gender="female", employment_type="dispatched", status="active",
                    card_no="GH202600000007", org_id=str(org.pk), org_path=list(org.path),
                    joined_at=datetime.now(timezone.utc), id_number_masked="x", phone_masked="y")
    data = members_published.member_joined(member, org)
    members_published.MEMBER_JOINED.validate(data)
    assert not SENSITIVE & set(data)


def test_what_members_builds_for_lifecycle_and_transfers_validates():
    from services.members.documents import Transfer

    org = _org()
    member = Member(id=ObjectId(), name="王五", gender="male", employment_type="gig", status="suspended",
                    org_id=str(org.pk), org_path=list(org.path), version=3, created_at=datetime.now(timezone.utc),
                    kept_reason="retired", left_at=datetime.now(timezone.utc))
    p = members_published
    p.MEMBER_APPLIED.validate(p.member_applied(member))
    p.MEMBER_APPLICATION_REJECTED.validate(p.member_application_rejected(member, "原因"))
    p.MEMBER_UPDATED.validate(p.member_updated(member, ["job"]))
    p.MEMBER_STATUS_CHANGED.validate(p.member_status_changed(member, "suspend", "active", None))
    member.status = "left"
    p.MEMBER_LEFT.validate(p.member_left(member, "voluntary"))
    now = datetime.now(timezone.utc)
    transfer = Transfer(id=ObjectId(), member_id=str(member.pk), member_name="王五", from_org_id=str(org.pk),
                        from_org_path=list(org.path), to_org_id="x", to_org_path=["f", "x"], requested_by="a",
                        requested_at=now, expires_at=now, status="requested", version=1)
    p.TRANSFER_REQUESTED.validate(p.transfer_data(transfer))
    transfer.status, transfer.decided_at, transfer.decision_reason = "declined", now, "不符合"
    p.TRANSFER_DECLINED.validate(p.transfer_data(transfer))


def test_what_notify_builds_validates():
    message = InboxMessage(id=ObjectId(), dedupe_key="k", member_id="m", org_path=["o"], category="membership",
                           title="t", body="b", created_at=datetime.now(timezone.utc))
    notify_published.MESSAGE_DELIVERED.validate(notify_published.message_delivered(message))


def test_what_events_builds_for_activities_validates():
    from services.events.documents import Activity, Registration, Suggestion
    from services.events.published import activities as p

    now = datetime.now(timezone.utc)
    activity = Activity(id=ObjectId(), title="职工运动会", kind="sports_meet", organiser_id="o", org_path=["f", "o"],
                        audience_org_id="o", audience_genders=["female"], starts_at=now, ends_at=now,
                        registration_opens_at=now, registration_closes_at=now, cancellation_deadline=now,
                        capacity=None, venue=None, version=2, cancel_reason="天气原因")
    p.ACTIVITY_PUBLISHED.validate(p.activity_data(activity))
    p.ACTIVITY_CANCELLED.validate(p.activity_cancelled(activity))
    registration = Registration(id=ObjectId(), activity_id=activity.pk, member_id=str(ObjectId()), status="confirmed",
                                ticket=3, version=1, checked_in_at=now, award="一等奖", honour="skills_champion",
                                awarded_at=now)
    for event_type, by in [(p.REGISTRATION_CONFIRMED, "member"), (p.REGISTRATION_PROMOTED, "waitlist"),
                           (p.REGISTRATION_WAITLISTED, "staff")]:
        event_type.validate(p.registration_data(registration, activity, by))
    registration.status = "removed"
    p.REGISTRATION_CANCELLED.validate(p.registration_data(registration, activity, "staff"))
    p.ATTENDANCE_RECORDED.validate(p.attendance_recorded(registration))
    data = p.award_granted(registration, activity)
    p.AWARD_GRANTED.validate(data)
    suggestion = Suggestion(id=ObjectId(), member_id="m", title="t", status="adopted", reward_fen=100, reviewed_at=now)
    p.SUGGESTION_REVIEWED.validate(p.suggestion_reviewed(suggestion))
    assert not SENSITIVE & set(data)


@pytest.mark.parametrize("module", ["services.notify.consumed", "services.events.consumed",
                                    "services.welfare.consumed", "services.members.consumed"])
def test_every_consumer_schema_accepts_the_producer_examples_and_ignores_unknown_fields(module):
    """For each event type a consumer handles, its own schema loads the publisher's examples."""
    consumed = importlib.import_module(module)
    by_name = {t.name: t for t in PUBLISHED}
    checked = 0
    for type_name in consumed.HANDLERS:
        schema_classes = [v for v in vars(consumed).values()
                          if isinstance(v, type) and issubclass(v, Schema) and v is not Schema
                          and v.__module__ in (consumed.__name__, "shared.readmodels")]
        for example in by_name[type_name].schema["examples"]:
            loaded = [cls().load({**example, "a_field_added_later": {"x": 1}}) for cls in schema_classes
                      if not cls().validate(example)]
            assert loaded, f"{module}: no schema of its own reads {type_name}"
            checked += 1
    assert checked >= len(consumed.HANDLERS)


@pytest.mark.parametrize("module", ["services.notify.consumed", "services.events.consumed", "services.welfare.consumed",
                                    "services.members.consumed"])
def test_consumers_handle_only_types_that_exist(module):
    names = {t.name for t in PUBLISHED}
    assert set(importlib.import_module(module).HANDLERS) <= names


def test_schema_files_are_json():
    for event_type in PUBLISHED:
        json.loads(event_type.schema_path.read_text())
