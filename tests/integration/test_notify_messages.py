"""notify's consumers: each event type reaches the right inbox once (a replay adds nothing), through the
batched path and the one-by-one path; cancellations reach the registrants, ballots the session's
delegates, staff-directed messages the organisation's inbox; a member's switches are honoured."""
from __future__ import annotations

import pytest

from services.notify.consumed import HANDLERS, ROUTES, on_notice, on_status_changed
from shared import db
from tests.integration import notify_seed as seed

pytestmark = pytest.mark.integration

E, W, M = "gonghui.events.", "gonghui.welfare.", "gonghui.members."
TO_THE_MEMBER = [t for t, (_, how) in ROUTES.items() if how in ("member:member_id", "member:proposer_id")]


@pytest.fixture
def notify_db(settings_for):
    db.connect(settings_for("notify"))


@pytest.mark.parametrize("event_type", sorted(TO_THE_MEMBER))
def test_each_member_message_reaches_the_member_once(notify_db, event_type):
    ids = seed.orgs()
    member = seed.recipient([ids["fed"], ids["a"]], name="李娜")
    event = seed.event(event_type, member_id=member, proposer_id=member, org_id=ids["a"], name="李娜",
                       org_path=[ids["fed"], ids["a"]])
    # member.status_changed: its message is ready but not yet wired (see consumed.HANDLERS)
    handler = on_status_changed if event_type == M + "member.status_changed" else HANDLERS[event_type]
    handler.many([event])
    handler.one(event)  # a replay, the other path
    messages = seed.inbox(member)
    assert len(messages) == 1
    assert "李娜" in messages[0].body and messages[0].org_path == [ids["fed"], ids["a"]]
    assert "{" not in messages[0].body


def test_a_cancelled_activity_reaches_those_still_registered(notify_db):
    ids = seed.orgs()
    path = [ids["fed"], ids["a"]]
    confirmed, waitlisted, cancelled, elsewhere = (seed.recipient(path) for _ in range(4))
    regs = [seed.event(E + "registration.confirmed", registration_id="r1", member_id=confirmed),
            seed.event(E + "registration.waitlisted", registration_id="r2", member_id=waitlisted, status="waitlisted"),
            seed.event(E + "registration.confirmed", registration_id="r3", member_id=cancelled),
            seed.event(E + "registration.cancelled", registration_id="r3", member_id=cancelled, status="cancelled",
                       version=2),
            seed.event(E + "registration.confirmed", registration_id="r4", member_id=elsewhere, activity_id="other")]
    cancel = seed.event(E + "activity.cancelled")
    on_notice.many(regs + [cancel])  # one poll: the registrations are kept before the cancellation is told
    on_notice.many([cancel])  # a replay
    from services.notify.documents import InboxMessage

    told = {m.member_id: m for m in InboxMessage.objects(member_id__in=[confirmed, waitlisted, cancelled, elsewhere])
            if m.title.startswith("活动取消")}
    assert set(told) == {confirmed, waitlisted}
    assert "因天气原因取消" in told[confirmed].body


def test_a_session_call_reaches_its_delegates_and_its_ballot_result_too(notify_db):
    ids = seed.orgs()
    delegates = [seed.recipient([ids["fed"], ids["a"]]) for _ in range(3)]
    on_notice.many([seed.event(E + "congress.session_called", delegate_ids=delegates + [delegates[0]])])
    on_notice.one(seed.event(E + "ballot.closed"))
    for member in delegates:
        titles = [m.title for m in seed.inbox(member)]
        assert len(titles) == 2 and titles[0].startswith("会议通知") and titles[1].startswith("表决结果")
        assert all(m.category == "congress" for m in seed.inbox(member))


def test_staff_directed_messages_go_to_the_organisation_inbox(notify_db):
    ids = seed.orgs()
    member = seed.recipient([ids["fed"], ids["a"]])
    transfer = seed.event(M + "transfer.requested", member_id=member, from_org_id=ids["a"], to_org_id=ids["b"],
                          to_org_path=[ids["fed"], ids["b"]])
    review = seed.event(M + "review.opened", member_id=member, org_id=ids["a"], org_path=[ids["fed"], ids["a"]])
    objection = seed.event(W + "objection.lodged", org_id=ids["a"])
    for handler_event in (transfer, review, objection):
        HANDLERS[handler_event.type].many([handler_event])
        HANDLERS[handler_event.type].one(handler_event)
    assert [m.title for m in seed.inbox(org_id=ids["b"])] == ["会员转入申请待处理"]
    assert "由a转入本会（b）" in seed.inbox(org_id=ids["b"])[0].body  # organisation names from the read model
    assert [m.category for m in seed.inbox(org_id=ids["a"])] == ["membership", "notices"]
    assert seed.inbox(member) == []  # nothing of this in the member's own inbox
    assert all(m.org_path[-1] in (ids["a"], ids["b"]) and not m.outbox for m in
               seed.inbox(org_id=ids["a"]) + seed.inbox(org_id=ids["b"]))


def test_a_switched_off_category_is_not_delivered_but_a_mandatory_one_is(notify_db):
    from services.notify.documents import Preference

    ids = seed.orgs()
    member = seed.recipient([ids["fed"], ids["a"]])
    Preference(id=member, channels={"activities": {"inbox": False}, "assistance": {"inbox": False}}).save()
    on_notice.many([seed.event(E + "registration.confirmed", member_id=member),
                    seed.event(W + "application.approved", member_id=member)])
    assert [m.category for m in seed.inbox(member)] == ["assistance"]


def test_an_unknown_recipient_still_gets_the_message_without_a_name(notify_db):
    on_notice.one(seed.event(W + "disbursement.made", member_id="not-yet-known"))
    (message,) = seed.inbox("not-yet-known")
    assert message.body.startswith("您好！") and "1,500.00 元" in message.body


def test_messages_publish_their_delivery_and_org_messages_do_not(notify_db):
    from services.notify.documents import InboxMessage
    from shared.events.outbox import pending_events

    ids = seed.orgs()
    member = seed.recipient([ids["fed"], ids["a"]])
    on_notice.one(seed.event(E + "award.granted", member_id=member))
    on_notice.one(seed.event(W + "objection.lodged", org_id=ids["a"]))
    (mine,) = seed.inbox(member)
    assert [e.type for e in pending_events(InboxMessage, mine.pk)] == ["gonghui.notify.message.delivered"]
    (staff,) = seed.inbox(org_id=ids["a"])
    assert pending_events(InboxMessage, staff.pk) == []


def test_an_organisation_message_document_has_exactly_the_shape_the_model_writes(notify_db):
    from services.notify import domain
    from services.notify.consumed import _inbox_document
    from services.notify.documents import InboxMessage

    message = domain.from_template(W + "objection.lodged", "ev1", "org:o1",
                                   seed.event(W + "objection.lodged").data)
    raw = _inbox_document(None, ["f", "o1"], message, "o1", announcement_id="a1")
    model = InboxMessage._from_son(raw)
    model.validate()
    assert model.to_mongo().to_dict() == raw and model.member_id is None and model.org_id == "o1"
