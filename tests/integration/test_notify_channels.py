"""Email and SMS against real local receivers (an aiosmtpd server, an HTTP gateway): each member gets a
message through the channels it chose, once per event however often the event is replayed; quiet hours
delay, never drop; failures are retried with backoff, then dead; a delivery whose sender died before
recording is sent again with the same key; racing senders send each delivery once."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from services.notify.app.sending import claim, send_due
from services.notify.channels.addresses import Addresses
from services.notify.channels.email import EmailChannel
from services.notify.consumed import on_notice
from services.notify.documents import ALL, Contact, Delivery, InboxMessage, Preference
from services.notify.domain.templates import SHANGHAI
from services.notify.keys import pii_vault
from services.notify.published import DELIVERY_FAILED, DELIVERY_SENT
from shared import db
from shared.events.envelope import utcnow
from shared.events.outbox import pending_events
from tests.integration import notify_seed as seed
from tests.receivers import Mailbox, SmsGateway

pytestmark = pytest.mark.integration
APPROVED = "gonghui.welfare.application.approved"
NEVER_QUIET = {"quiet_start": "00:00", "quiet_end": "00:00"}


@pytest.fixture
def mailbox():
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture
def gateway():
    sms = SmsGateway().start()
    yield sms
    sms.stop()


@pytest.fixture
def settings(settings_for, mailbox, gateway):
    db.connect(settings_for("notify"))
    db.ensure_indexes(ALL)
    return settings_for("notify", smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_tls="none",
                        sms_url=gateway.url, sms_key=gateway.key, delivery_backoff_seconds=0.05,
                        delivery_max_attempts=3, delivery_lease_seconds=30)


def member(settings, org_path, name, phone=None, email=None, channels=None, **quiet) -> str:
    member_id = seed.recipient(org_path, name=name)
    vault = pii_vault(settings)
    if phone:
        Contact(id=member_id, phone_encrypted=vault.encrypt(phone),
                email_encrypted=vault.encrypt(email) if email else None, version=1).save()
    Preference(id=member_id, channels=channels or {}, **(quiet or NEVER_QUIET)).save()
    return member_id


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def deliveries(member_id) -> dict[str, Delivery]:
    return {d.channel: d for d in Delivery.objects(member_id=member_id)}


def test_a_decision_goes_by_inbox_email_and_sms_each_once(settings, mailbox, gateway):
    ids = seed.orgs()
    path = [ids["fed"], ids["a"]]
    wang = member(settings, path, "王芳", "13800000001", "wang@example.com", {"assistance": {"email": True}})
    li = member(settings, path, "李雷", "13800000002", "li@example.com")  # assistance: SMS by default
    zhao = member(settings, path, "赵敏")  # no contact details: the inbox only
    events = [seed.event(APPROVED, member_id=m, amount_fen=150000) for m in (wang, li, zhao)]
    on_notice.many(events)
    on_notice.many(events)  # replayed: nothing new
    assert set(deliveries(wang)) == {"email", "sms"} and set(deliveries(li)) == {"sms"} and not deliveries(zhao)
    assert all(len(seed.inbox(m)) == 1 for m in (wang, li, zhao))

    assert send_due(settings) == 3
    assert send_due(settings) == 0
    [mail] = mailbox.received
    assert mail["To"].addresses[0].addr_spec == "wang@example.com"
    assert mail["Subject"].startswith("救助申请已批准")
    assert "王芳，您好！" in mail.get_content() and "1,500.00 元" in mail.get_content()
    assert sorted(m["to"] for m in gateway.received) == ["13800000001", "13800000002"]
    assert all(m["text"].startswith("【工会】") for m in gateway.received)
    for delivery in Delivery.objects(member_id__in=[wang, li]):
        assert delivery.status == "sent" and delivery.attempts == 1 and delivery.sent_at
        assert [(t.number, t.status) for t in delivery.tries] == [(1, "sent")]
        [event] = pending_events(Delivery, delivery.pk)
        assert event.type == DELIVERY_SENT.name and event.data["channel"] == delivery.channel
        assert "13800000001" not in str(event.data) and "wang@" not in str(event.data)
    on_notice.many(events)
    assert send_due(settings) == 0 and len(mailbox.received) == 1 and len(gateway.received) == 2


def test_a_member_who_switched_a_channel_off_gets_nothing_there_but_mandatory_stays_in_the_inbox(settings, gateway):
    ids = seed.orgs()
    quiet = member(settings, [ids["fed"], ids["a"]], "孙丽", "13800000003", None,
                   {"assistance": {"sms": False, "inbox": True}, "awards": {"inbox": False}})
    on_notice.many([seed.event(APPROVED, member_id=quiet), seed.event("gonghui.events.award.granted", member_id=quiet)])
    assert not deliveries(quiet)
    assert [m.category for m in seed.inbox(quiet)] == ["assistance"]


def test_quiet_hours_delay_email_and_sms_and_never_drop_them(settings, mailbox, gateway):
    ids = seed.orgs()
    local = utcnow().astimezone(SHANGHAI)
    start, end = (local - timedelta(hours=1)).strftime("%H:%M"), (local + timedelta(hours=1)).strftime("%H:%M")
    sleeper = member(settings, [ids["fed"], ids["a"]], "周杰", "13800000004", "zhou@example.com",
                     {"assistance": {"email": True}}, quiet_start=start, quiet_end=end)
    on_notice.many([seed.event(APPROVED, member_id=sleeper)])
    assert len(seed.inbox(sleeper)) == 1  # the inbox does not wait
    queued = deliveries(sleeper)
    wakes = datetime.combine(local.date(), datetime.strptime(end, "%H:%M").time(), SHANGHAI)
    wakes += timedelta(days=1) if wakes <= local else timedelta()
    assert set(queued) == {"email", "sms"}
    for delivery in queued.values():  # when the quiet hours end, to the minute
        assert abs(_aware(delivery.next_at) - wakes) < timedelta(seconds=1)
    assert send_due(settings) == 0 and not mailbox.received and not gateway.received
    Delivery.objects(member_id=sleeper).update(set__next_at=utcnow())  # the quiet hours are over
    assert send_due(settings) == 2 and len(mailbox.received) == 1 and len(gateway.received) == 1


def test_a_failing_gateway_is_retried_with_backoff_then_the_delivery_is_dead(settings, gateway):
    ids = seed.orgs()
    unlucky = member(settings, [ids["fed"], ids["a"]], "吴军", "13800000005")
    gateway.fail_next = 100
    on_notice.many([seed.event(APPROVED, member_id=unlucky)])
    send_due(settings)
    delivery = Delivery.objects.get(member_id=unlucky)
    assert delivery.status == "retrying" and delivery.attempts == 1
    assert delivery.next_at > delivery.tries[0].at  # backoff
    for _ in range(100):
        send_due(settings)
        delivery.reload()
        if delivery.status == "dead":
            break
    assert [(t.number, t.status) for t in delivery.tries] == [(1, "failed"), (2, "failed"), (3, "failed")]
    assert all("503" in t.error and "13800000005" not in t.error for t in delivery.tries)
    gaps = [(b.at - a.at).total_seconds() for a, b in zip(delivery.tries, delivery.tries[1:], strict=False)]
    assert gaps[0] >= 0.04 and gaps[1] >= 0.08  # each retry waited its backoff: 0.05 s, then 0.1 s (± 20 %)
    [event] = pending_events(Delivery, delivery.pk)
    assert event.type == DELIVERY_FAILED.name and event.data["attempts"] == 3 and "503" in event.data["error"]
    assert not gateway.received


def test_a_recovering_gateway_gets_the_message_on_the_next_try_and_a_refused_number_is_dead_at_once(settings, gateway):
    ids = seed.orgs()
    path = [ids["fed"], ids["a"]]
    first = member(settings, path, "郑爽", "13800000006")
    gateway.fail_next = 1
    on_notice.many([seed.event(APPROVED, member_id=first)])
    send_due(settings)
    for _ in range(100):
        if Delivery.objects.get(member_id=first).status == "sent":
            break
        send_due(settings)
    assert [(t.number, t.status) for t in Delivery.objects.get(member_id=first).tries] == [(1, "failed"), (2, "sent")]
    second = member(settings, path, "冯巩", "0000")
    gateway.refuse_next = 1
    on_notice.many([seed.event(APPROVED, member_id=second)])
    send_due(settings)
    refused = Delivery.objects.get(member_id=second)
    assert refused.status == "dead" and refused.attempts == 1 and "400" in refused.tries[0].error
    assert [m["to"] for m in gateway.received] == ["13800000006"]


def test_a_delivery_whose_sender_died_before_recording_is_sent_again_with_the_same_key(settings, mailbox):
    ids = seed.orgs()
    lost = member(settings, [ids["fed"], ids["a"]], "陈红", "13800000007", "chen@example.com",
                  {"assistance": {"email": True, "sms": False}})
    on_notice.many([seed.event(APPROVED, member_id=lost)])
    [taken] = claim(settings, 10)  # a sender claims it, sends it ... and dies before recording
    channel = EmailChannel(settings, Addresses(pii_vault(settings)))
    channel.send(taken)
    channel.close()
    assert send_due(settings) == 0  # its lease holds: nobody else sends it meanwhile
    Delivery.objects(pk=taken["_id"]).update(set__lease_until=utcnow() - timedelta(seconds=1))
    assert send_due(settings) == 1
    delivery = Delivery.objects.get(pk=taken["_id"])
    assert delivery.status == "sent" and [(t.number, t.status) for t in delivery.tries] == [(1, "interrupted"),
                                                                                              (2, "sent")]
    assert len(mailbox.received) == 2 and len(mailbox.kept) == 1  # the same Message-ID: the mailbox keeps one
    assert mailbox.received[0]["Message-ID"] == mailbox.received[1]["Message-ID"]


def test_senders_racing_send_each_delivery_once(settings, mailbox):
    ids = seed.orgs()
    path = [ids["fed"], ids["a"]]
    people = [member(settings, path, f"职工{n}", f"1390000{n:04d}", f"w{n}@example.com",
                     {"assistance": {"email": True, "sms": False}}) for n in range(60)]
    on_notice.many([seed.event(APPROVED, member_id=m) for m in people])
    threads = [threading.Thread(target=send_due, args=(settings,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(mailbox.received) == 60 and len(mailbox.kept) == 60
    assert Delivery.objects(status="sent").count() == 60
    assert all(d.attempts == 1 for d in Delivery.objects(member_id__in=people))
    assert InboxMessage.objects(member_id__in=people).count() == 60


def test_staff_of_the_branch_read_the_delivery_log_and_nobody_else(settings, notify, bearer, gateway):
    ids = seed.orgs()
    gateway.fail_next = 1
    texted = member(settings, [ids["fed"], ids["a"]], "钱进", "13800000011")
    other = member(settings, [ids["fed"], ids["b"]], "刘星", "13800000012")
    on_notice.many([seed.event(APPROVED, member_id=m) for m in (texted, other)])
    send_due(settings)
    Delivery.objects(status="retrying").update(set__next_at=utcnow())
    send_due(settings)
    staff_a, staff_b = bearer("admin", ids["a"]), bearer("admin", ids["b"])
    listed = notify.get("/api/v1/deliveries", headers=staff_a).json["items"]
    assert [d["member_id"] for d in listed] == [texted]
    [first] = listed
    assert first["channel"] == "sms" and first["event_type"] == APPROVED and first["status"] in ("sent", "retrying")
    one = notify.get(f"/api/v1/deliveries/{first['id']}", headers=staff_a).json
    assert one["tries"][0]["number"] == 1 and one["tries"][0]["status"] in ("failed", "sent")
    assert "13800000011" not in str(one) and "body" not in one
    assert notify.get(f"/api/v1/deliveries/{first['id']}", headers=staff_b).status_code == 404
    assert notify.get(f"/api/v1/deliveries?member_id={texted}", headers=staff_b).status_code == 404
    fed = bearer("admin", ids["fed"])
    assert len(notify.get("/api/v1/deliveries", headers=fed).json["items"]) == 2
    assert len(notify.get("/api/v1/deliveries?status=dead", headers=fed).json["items"]) == 0
    assert notify.get(f"/api/v1/deliveries?member_id={other}&channel=sms", headers=fed).json["items"][0][
        "member_id"] == other
    assert notify.get("/api/v1/deliveries?channel=fax", headers=fed).json["error"]["fields"]["channel"]
    assert notify.get("/api/v1/deliveries", headers=bearer("member", ids["a"], sub=texted)).status_code in (403, 404)
    assert notify.get("/api/v1/deliveries?hook_id=nothing", headers=fed).status_code == 404


def test_email_logs_in_when_the_server_asks_and_without_credentials_is_retried_not_sent(settings_for, settings):
    box = Mailbox(login=("notify", "s3cret")).start()
    try:
        ids = seed.orgs()
        path = [ids["fed"], ids["a"]]
        choice = {"assistance": {"email": True, "sms": False}}
        anonymous = settings_for("notify", smtp_host="127.0.0.1", smtp_port=box.port, smtp_tls="none",
                                 delivery_backoff_seconds=0.05)
        right = settings_for("notify", smtp_host="127.0.0.1", smtp_port=box.port, smtp_tls="none",
                             smtp_user="notify", smtp_password="s3cret")
        first = member(settings, path, "何静", "13800000013", "he@example.com", choice)
        on_notice.many([seed.event(APPROVED, member_id=first)])
        send_due(anonymous)
        failed = Delivery.objects.get(member_id=first)
        assert failed.status == "retrying" and "530" in failed.tries[0].error and not box.received
        Delivery.objects(pk=failed.pk).update(set__next_at=utcnow())
        assert send_due(right) == 1
        assert [m["To"].addresses[0].addr_spec for m in box.received] == ["he@example.com"]
    finally:
        box.stop()
