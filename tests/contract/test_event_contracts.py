"""Every published event validates against its schema; every consumer's own
schema accepts the producer's examples; no schema can carry personal data."""
import importlib
import json
from datetime import datetime, timezone

import pytest
from bson import ObjectId

from services.members import published as members_published
from services.members.documents import Member, Organisation
from services.notify import published as notify_published
from services.notify.documents import InboxMessage

pytestmark = pytest.mark.contract

PUBLISHED = members_published.ALL + notify_published.ALL
SENSITIVE = {"id_number", "phone", "mobile", "id_number_encrypted", "phone_encrypted", "email"}


@pytest.mark.parametrize("event_type", PUBLISHED, ids=lambda t: t.name)
def test_schemas_are_valid_and_their_examples_validate(event_type):
    assert event_type.schema["$id"] == event_type.dataschema
    assert event_type.schema.get("additionalProperties") is False  # nothing undeclared leaks out
    for example in event_type.schema["examples"]:
        event_type.validate(example)


@pytest.mark.parametrize("event_type", PUBLISHED, ids=lambda t: t.name)
def test_no_schema_declares_personal_data(event_type):
    assert not SENSITIVE & set(event_type.schema["properties"])


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


def test_what_notify_builds_validates():
    message = InboxMessage(id=ObjectId(), dedupe_key="k", member_id="m", org_path=["o"], category="membership",
                           title="t", body="b", created_at=datetime.now(timezone.utc))
    notify_published.MESSAGE_DELIVERED.validate(notify_published.message_delivered(message))


CONSUMERS = [
    ("services.notify.consumed", "MemberJoined"),
    ("services.events.consumed", "MemberChanged"),
    ("services.welfare.consumed", "MemberChanged"),
]


@pytest.mark.parametrize("module,schema", CONSUMERS)
def test_consumers_accept_the_producer_examples_and_ignore_unknown_fields(module, schema):
    consumer_schema = getattr(importlib.import_module(module), schema)()
    for example in members_published.MEMBER_JOINED.schema["examples"]:
        consumer_schema.load(example)
        consumer_schema.load({**example, "a_field_added_later": {"x": 1}})


@pytest.mark.parametrize("module", ["services.notify.consumed", "services.events.consumed", "services.welfare.consumed"])
def test_consumers_handle_only_types_that_exist(module):
    names = {t.name for t in PUBLISHED}
    assert set(importlib.import_module(module).HANDLERS) <= names


def test_schema_files_are_json():
    for event_type in PUBLISHED:
        json.loads(event_type.schema_path.read_text())
