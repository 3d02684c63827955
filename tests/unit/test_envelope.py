import pytest

from shared.events.envelope import CloudEvent, EnvelopeError
from shared.pagination import decode_cursor, encode_cursor
from shared.web import find_operator_keys

pytestmark = pytest.mark.unit


def test_binary_mode_round_trip_keeps_every_attribute():
    event = CloudEvent(type="gonghui.members.member.joined", source="/gonghui/members", subject="m1",
                       data={"member_id": "m1", "name": "张三"}, dataschema="urn:x:1")
    key, headers, value = event.to_record()
    assert key == b"m1"
    names = dict(headers)
    assert names["ce_specversion"] == b"1.0" and names["content-type"] == b"application/json"
    assert value.decode() == '{"member_id":"m1","name":"张三"}'  # plain JSON any Kafka tool can read
    assert CloudEvent.from_record(headers, value) == event


@pytest.mark.parametrize("headers,value,reason", [
    ([("ce_specversion", b"0.3"), ("ce_id", b"1"), ("ce_source", b"/s"), ("ce_type", b"t")], b"{}", "specversion"),
    ([("ce_specversion", b"1.0"), ("ce_source", b"/s"), ("ce_type", b"t")], b"{}", "ce_id"),
    ([("ce_specversion", b"1.0"), ("ce_id", b"1"), ("ce_source", b"/s"), ("ce_type", b"t")], b"{nope", "JSON"),
    ([("ce_specversion", b"1.0"), ("ce_id", b"1"), ("ce_source", b"/s"), ("ce_type", b"t")], b"[1]", "object"),
    (None, b"{}", "specversion"),
])
def test_unreadable_records_are_rejected_with_a_reason(headers, value, reason):
    with pytest.raises(EnvelopeError, match=reason):
        CloudEvent.from_record(headers, value)


def test_operator_keys_are_found_at_any_depth():
    assert find_operator_keys({"name": {"$ne": None}}) == ["name.$ne"]
    assert find_operator_keys({"a": [{"b": {"$gt": 1}}]}) == ["a[0].b.$gt"]
    assert find_operator_keys({"name": "$not-a-key"}) == []


def test_cursors_round_trip_and_reject_garbage():
    from bson import ObjectId

    oid = ObjectId()
    assert decode_cursor(encode_cursor(oid)) == oid
    assert decode_cursor("!!!") is None
    assert decode_cursor("abc") is None


def test_kafka_cluster_ids_never_look_like_options():
    from shared.localinfra.kafka import new_cluster_id

    ids = [new_cluster_id() for _ in range(2000)]
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
