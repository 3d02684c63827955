"""Webhooks for systems, against a real HTTP receiver on 127.0.0.1: staff register a hook and get its
secret once; each delivery is signed and the receiver verifies it; a failing receiver makes the channel
retry until the hook is disabled, and staff enable it again; without the operator's allowance nothing
reaches loopback, not even through a name resolved at connect time; registration refusals name the field;
another branch's staff see nothing; an event reaches exactly the hooks on its path subscribed to its type."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.notify.app.hooks import hook_deliveries
from services.notify.app.outgoing import queue
from services.notify.channels import Retry, Undeliverable
from services.notify.channels.webhook import WebhookChannel
from services.notify.documents import Delivery, Webhook
from services.notify.domain.webhooks import verify
from shared.events.envelope import CloudEvent
from tests.integration import notify_seed as seed

pytestmark = pytest.mark.integration

STATUS_CHANGED = "gonghui.members.member.status_changed"
AWARD = "gonghui.events.award.granted"


class Receiver:
    """An HTTP endpoint that keeps every POST (headers, body) and answers ``status`` (``location`` for a
    redirect)."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        self.status = 204
        self.location = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, host="127.0.0.1", path="/hook"):
        return f"http://{host}:{self.port}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def private(settings_for):
    """The API and its settings where an operator allows private addresses (the receiver is on 127.0.0.1);
    a hook fails 3 times in a row before it is disabled."""
    from services.notify import create_app

    settings = settings_for("notify", webhook_allow_private=True, webhook_disable_after=3)
    return create_app(settings).test_client(), settings


def _register(client, headers, org_id, url, event_types=(STATUS_CHANGED,), **extra):
    response = client.post("/api/v1/webhooks", json={"org_id": org_id, "url": url, "event_types": list(event_types),
                                                     **extra}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def _event(event_type=STATUS_CHANGED, **data):
    return CloudEvent(type=event_type, source="/gonghui/members", subject="m1",
                      data={"member_id": "m1", "status": "suspended", **data})


def _delivery_to(hook_id, event=None, org_path=None):
    """The one delivery of an event (about the hook's organisation) to a hook, as hook_deliveries builds it."""
    org_path = org_path or Webhook.objects.get(pk=hook_id).org_path
    docs = [d for d in hook_deliveries([(event or _event(), [list(org_path)])]) if d["hook_id"] == hook_id]
    assert len(docs) == 1
    return docs[0]


def test_a_delivery_is_signed_with_the_secret_shown_once_and_the_receiver_verifies_it(private, receiver, bearer):
    client, settings = private
    ids = seed.orgs(("fed", "a"))
    staff = bearer("admin", ids["a"])
    hook = _register(client, staff, ids["a"], receiver.url(), description="OA 系统")
    secret = hook["secret"]
    assert len(secret) >= 40 and hook["status"] == "active" and hook["failures"] == 0
    assert "secret_encrypted" not in hook and secret not in Webhook.objects.get(pk=hook["id"]).secret_encrypted
    # never shown again
    for shown in (client.get(f"/api/v1/webhooks/{hook['id']}", headers=staff).json,
                  client.get("/api/v1/webhooks", headers=staff).json["items"][0],
                  client.patch(f"/api/v1/webhooks/{hook['id']}", json={"description": "OA"}, headers=staff).json):
        assert shown["id"] == hook["id"] and not {"secret", "secret_encrypted"} & set(shown)
        assert secret not in json.dumps(shown)

    Webhook.objects(pk=hook["id"]).update(set__failures=2)  # a success sets the count back
    event = _event()
    delivery = _delivery_to(hook["id"], event, [ids["fed"], ids["a"]])
    channel = WebhookChannel(settings)
    try:
        channel.send(delivery)
    finally:
        channel.close()
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    assert body == delivery["body"].encode()
    assert verify(secret, headers["x-gonghui-timestamp"], body, headers["x-gonghui-signature"], now=time.time())
    assert not verify("another secret", headers["x-gonghui-timestamp"], body, headers["x-gonghui-signature"],
                      now=time.time())
    assert headers["content-type"] == "application/json"
    assert headers["x-gonghui-event"] == STATUS_CHANGED
    assert headers["x-gonghui-delivery"] == delivery["key"]
    sent = json.loads(body)
    assert (sent["specversion"], sent["id"], sent["type"], sent["source"], sent["subject"]) == (
        "1.0", event.id, STATUS_CHANGED, "/gonghui/members", "m1")
    assert sent["datacontenttype"] == "application/json" and sent["data"] == event.data
    assert Webhook.objects.get(pk=hook["id"]).failures == 0

    # a rotated secret signs from now on; the old one no longer verifies
    rotated = client.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret", headers=staff)
    assert rotated.status_code == 200 and rotated.json["secret"] != secret
    channel = WebhookChannel(settings)
    try:
        channel.send(delivery)
    finally:
        channel.close()
    headers, body = receiver.received[1]
    assert headers["x-gonghui-delivery"] == delivery["key"]  # the same delivery again: the receiver drops it
    assert verify(rotated.json["secret"], headers["x-gonghui-timestamp"], body, headers["x-gonghui-signature"],
                  now=time.time())
    assert not verify(secret, headers["x-gonghui-timestamp"], body, headers["x-gonghui-signature"], now=time.time())


def test_a_failing_receiver_is_retried_until_the_hook_is_disabled_and_staff_enable_it(private, receiver, bearer):
    client, settings = private
    ids = seed.orgs(("fed", "a"))
    staff = bearer("operator", ids["a"])
    hook = _register(client, staff, ids["a"], receiver.url())
    delivery = _delivery_to(hook["id"])
    channel = WebhookChannel(settings)
    try:
        receiver.status = 500
        errors = []
        for _ in range(2):
            with pytest.raises(Retry) as retry:
                channel.send(delivery)
            errors.append(str(retry.value))
        receiver.status, receiver.location = 302, "http://127.0.0.1:1/elsewhere"  # not followed
        with pytest.raises(Retry) as retry:
            channel.send(delivery)
        errors.append(str(retry.value))
        assert errors == ["HTTP 500", "HTTP 500", "HTTP 302 (redirects are not followed)"]
        assert all(hook["url"] not in e for e in errors)
        assert len(receiver.received) == 3
        got = client.get(f"/api/v1/webhooks/{hook['id']}", headers=staff).json
        assert (got["status"], got["failures"]) == ("disabled", 3) and got["disabled_at"]
        assert "3 failed deliveries in a row" in got["disabled_reason"]
        assert [h["id"] for h in client.get("/api/v1/webhooks?status=disabled", headers=staff).json["items"]] == [
            hook["id"]]
        # a disabled hook gets nothing: its deliveries are undeliverable, new events make none
        with pytest.raises(Undeliverable):
            channel.send(delivery)
        assert len(receiver.received) == 3
        assert hook_deliveries([(_event(), [[ids["fed"], ids["a"]]])]) == []

        receiver.status, receiver.location = 200, None
        enabled = client.post(f"/api/v1/webhooks/{hook['id']}/enable", headers=staff)
        assert enabled.status_code == 200, enabled.json
        assert (enabled.json["status"], enabled.json["failures"], enabled.json["disabled_at"],
                enabled.json["disabled_reason"]) == ("active", 0, None, None)
        channel.send(delivery)
        assert len(receiver.received) == 4
        # a receiver that is not there at all fails the same way, and counts
        receiver.server.shutdown()
        receiver.server.server_close()
        with pytest.raises(Retry, match="connection failed"):
            channel.send(delivery)
        assert Webhook.objects.get(pk=hook["id"]).failures == 1
    finally:
        channel.close()


def test_without_the_operators_allowance_nothing_reaches_loopback(private, receiver, bearer, settings_for,
                                                                  monkeypatch):
    client, allowed = private
    ids = seed.orgs(("fed", "a"))
    staff = bearer("admin", ids["a"])
    by_address = _register(client, staff, ids["a"], receiver.url())
    by_name = _register(client, staff, ids["a"], receiver.url(host="localhost"))
    refused = WebhookChannel(settings_for("notify", webhook_disable_after=3))
    try:
        for hook in (by_address, by_name):
            with pytest.raises(Retry, match="URL not allowed"):
                refused.send(_delivery_to(hook["id"]))
        assert receiver.received == []
        # the URL check passed at registration, then the name resolves to loopback (DNS rebinding): the
        # address actually connected to is refused before a byte of the request is sent
        monkeypatch.setattr("services.notify.channels.webhook.check_url", lambda url, allow_private: url)
        for url in (receiver.url(host="localhost"), f"https://localhost:{receiver.port}/hook"):
            Webhook.objects(pk=by_name["id"]).update(set__url=url)
            with pytest.raises(Retry) as retry:
                refused.send(_delivery_to(by_name["id"]))
            assert str(retry.value) == "address not allowed"  # before TLS too: not a "TLS error"
        with pytest.raises(Retry, match="address not allowed"):
            refused.send(_delivery_to(by_address["id"]))
        assert receiver.received == []
        assert Webhook.objects.get(pk=by_name["id"]).failures == 3
        assert Webhook.objects.get(pk=by_name["id"]).status == "disabled"
    finally:
        refused.close()
    # the same hook reaches the receiver where the operator allows private addresses
    client.post(f"/api/v1/webhooks/{by_name['id']}/enable", headers=staff)
    Webhook.objects(pk=by_name["id"]).update(set__url=receiver.url(host="localhost"))
    channel = WebhookChannel(allowed)
    try:
        channel.send(_delivery_to(by_name["id"]))
    finally:
        channel.close()
    assert len(receiver.received) == 1


def test_registration_refusals_name_the_field(notify, private, bearer):
    client, _ = private
    ids = seed.orgs(("fed", "a"))
    staff = bearer("admin", ids["a"])
    base = {"org_id": ids["a"], "url": "https://hooks.example.com/in", "event_types": [STATUS_CHANGED]}

    def refused(body, field, via=notify, status=422):
        response = via.post("/api/v1/webhooks", json=body, headers=staff)
        assert response.status_code == status, response.json
        assert field in response.json["error"]["fields"], response.json
        return response.json["error"]

    refused({k: v for k, v in base.items() if k != "url"}, "url")
    refused({**base, "url": "ftp://hooks.example.com/in"}, "url")
    refused({**base, "url": "https://user:pw@hooks.example.com/in"}, "url")
    refused({**base, "url": "http://127.0.0.1:8080/in"}, "url")
    refused({**base, "url": "http://[::ffff:10.0.0.1]/in"}, "url")
    refused({**base, "url": "http://169.254.169.254/latest/meta-data"}, "url")
    refused({**base, "url": "http://localhost/in"}, "url")
    refused({**base, "event_types": []}, "event_types")
    refused({**base, "event_types": [STATUS_CHANGED, "gonghui.members.secret.leaked"]}, "event_types.1")
    refused({k: v for k, v in base.items() if k != "event_types"}, "event_types")
    refused({**base, "description": "   "}, "description")
    refused({**base, "secret": "mine"}, "secret")
    refused({**base, "url": "ftp://127.0.0.1/"}, "url", via=client)  # the allowance is for addresses only
    assert notify.post("/api/v1/webhooks", json=base, headers=bearer("member", ids["a"], sub="m")).status_code == 403

    hook = notify.post("/api/v1/webhooks", json={**base, "event_types": [AWARD, STATUS_CHANGED, AWARD]},
                       headers=staff).json
    assert hook["event_types"] == sorted({AWARD, STATUS_CHANGED}) and hook["url"] == base["url"]
    patch = notify.patch(f"/api/v1/webhooks/{hook['id']}", json={"url": "http://10.0.0.7/in"}, headers=staff)
    assert patch.status_code == 422 and "url" in patch.json["error"]["fields"]
    patch = notify.patch(f"/api/v1/webhooks/{hook['id']}", json={"event_types": []}, headers=staff)
    assert patch.status_code == 422 and "event_types" in patch.json["error"]["fields"]
    patch = notify.patch(f"/api/v1/webhooks/{hook['id']}", json={"org_id": ids["fed"]}, headers=staff)
    assert patch.status_code == 422 and "org_id" in patch.json["error"]["fields"]
    changed = notify.patch(f"/api/v1/webhooks/{hook['id']}", json={
        "url": "https://other.example.com/in", "event_types": [AWARD], "description": "HR"}, headers=staff)
    assert changed.status_code == 200
    assert (changed.json["url"], changed.json["event_types"], changed.json["description"]) == (
        "https://other.example.com/in", [AWARD], "HR")
    assert notify.get("/api/v1/webhooks/not-an-id", headers=staff).status_code == 404


def test_another_branchs_staff_see_nothing_and_a_deleted_hook_is_gone(notify, bearer):
    ids = seed.orgs(("fed", "a", "b"))
    hook = _register(notify, bearer("admin", ids["fed"]), ids["a"], "https://hooks.example.com/a")
    other = bearer("admin", ids["b"])
    path = f"/api/v1/webhooks/{hook['id']}"
    assert notify.get(path, headers=other).status_code == 404
    assert notify.patch(path, json={"description": "x"}, headers=other).status_code == 404
    assert notify.delete(path, headers=other).status_code == 404
    assert notify.post(f"{path}/enable", headers=other).status_code == 404
    assert notify.post(f"{path}/rotate-secret", headers=other).status_code == 404
    assert notify.get(path, headers=bearer("member", ids["a"], sub="m")).status_code == 404
    response = notify.post("/api/v1/webhooks", json={"org_id": ids["a"], "url": "https://hooks.example.com/b",
                                                     "event_types": [AWARD]}, headers=other)
    assert response.status_code == 404 and "org_id" in response.json["error"]["fields"]
    assert notify.get("/api/v1/webhooks", headers=other).json["items"] == []
    assert Webhook.objects.get(pk=hook["id"]).description is None  # nothing changed

    staff = bearer("admin", ids["a"])
    assert notify.get(path, headers=staff).status_code == 200
    assert [h["id"] for h in notify.get("/api/v1/webhooks", headers=bearer("admin", ids["fed"])).json["items"]] == [
        hook["id"]]
    assert notify.delete(path, headers=staff).status_code == 204
    assert notify.get(path, headers=staff).status_code == 404
    assert notify.delete(path, headers=staff).status_code == 404
    assert notify.post(f"{path}/enable", headers=staff).status_code == 404
    assert notify.get("/api/v1/webhooks", headers=staff).json["items"] == []
    kept = Webhook.objects.get(pk=hook["id"])  # on record, delivering nothing
    assert kept.status == "deleted" and kept.disabled_reason == f"deleted by admin:{ids['a']}"
    assert hook_deliveries([(_event(), [[ids["fed"], ids["a"]]])]) == []


def test_list_pages_with_a_cursor(notify, bearer):
    ids = seed.orgs(("fed", "a"))
    staff = bearer("admin", ids["a"])
    made = [_register(notify, staff, ids["a"], f"https://hooks.example.com/{n}")["id"] for n in range(5)]
    first = notify.get("/api/v1/webhooks?limit=3", headers=staff).json
    second = notify.get(f"/api/v1/webhooks?limit=3&cursor={first['next_cursor']}", headers=staff).json
    assert [h["id"] for h in first["items"] + second["items"]] == made[::-1] and second["next_cursor"] is None
    spec = notify.get("/api/v1/openapi.json").json
    assert {"/api/v1/webhooks", "/api/v1/webhooks/{hook_id}", "/api/v1/webhooks/{hook_id}/enable",
            "/api/v1/webhooks/{hook_id}/rotate-secret"} <= set(spec["paths"])
    schemas = spec["components"]["schemas"]
    assert "secret" in schemas["WebhookWithSecret"]["properties"] and "secret" not in schemas["Webhook"]["properties"]


def test_an_event_reaches_exactly_the_active_hooks_on_its_path_subscribed_to_its_type(notify, bearer):
    ids = seed.orgs(("fed", "a", "b"))
    fed, a, b = bearer("admin", ids["fed"]), bearer("admin", ids["a"]), bearer("admin", ids["b"])
    url = "https://hooks.example.com/in"
    on_fed = _register(notify, fed, ids["fed"], url, [STATUS_CHANGED, AWARD])["id"]
    on_a = _register(notify, a, ids["a"], url, [STATUS_CHANGED])["id"]
    on_a_awards = _register(notify, a, ids["a"], url, [AWARD])["id"]
    on_b = _register(notify, b, ids["b"], url, [STATUS_CHANGED])["id"]
    off_a = _register(notify, a, ids["a"], url, [STATUS_CHANGED])["id"]
    Webhook.objects(pk=off_a).update(set__status="disabled")

    in_a, in_b = [ids["fed"], ids["a"]], [ids["fed"], ids["b"]]
    status_in_a, award_in_b, award_nowhere = _event(), _event(AWARD), _event(AWARD)
    docs = hook_deliveries([(status_in_a, [in_a]), (award_in_b, [in_b, in_b]), (award_nowhere, [["elsewhere"]])])
    got = {(d["event_id"], d["hook_id"]) for d in docs}
    assert got == {(status_in_a.id, on_fed), (status_in_a.id, on_a), (award_in_b.id, on_fed)}
    assert len(docs) == 3  # one per event × hook, however many of its paths pass the hook's organisation
    by_hook = {d["hook_id"]: d for d in docs if d["event_id"] == status_in_a.id}
    assert by_hook[on_a]["org_path"] == in_a and by_hook[on_fed]["org_path"] == [ids["fed"]]
    assert {d["channel"] for d in docs} == {"webhook"} and on_b not in by_hook and on_a_awards not in by_hook
    assert json.loads(by_hook[on_a]["body"])["id"] == status_in_a.id
    assert hook_deliveries([]) == [] and hook_deliveries([(status_in_a, [])]) == []
    # queued once each, however often the event comes again
    assert queue(docs) == 3 and queue(hook_deliveries([(status_in_a, [in_a])])) == 0
    assert Delivery.objects(channel="webhook").count() == 3


def test_a_consumed_event_reaches_its_hook_through_the_sender_once_and_shows_in_the_log(private, receiver, bearer):
    from services.notify.app.sending import send_due
    from services.notify.consumed import on_notice

    client, settings = private
    ids = seed.orgs(("fed", "a"))
    staff = bearer("admin", ids["fed"])
    approved = "gonghui.welfare.application.approved"
    hook = _register(client, staff, ids["fed"], receiver.url(), event_types=[approved])
    member = seed.recipient([ids["fed"], ids["a"]])
    event = seed.event(approved, member_id=member)
    on_notice.many([event])
    on_notice.many([event])  # replayed: still one delivery
    assert send_due(settings) == 1 and send_due(settings) == 0
    [(headers, body)] = receiver.received
    assert verify(hook["secret"], headers["x-gonghui-timestamp"], body, headers["x-gonghui-signature"], now=time.time())
    assert json.loads(body)["id"] == event.id and json.loads(body)["data"]["member_id"] == member
    [logged] = client.get(f"/api/v1/deliveries?hook_id={hook['id']}", headers=staff).json["items"]
    assert (logged["channel"], logged["status"], logged["attempts"]) == ("webhook", "sent", 1)
    assert client.get(f"/api/v1/deliveries?hook_id={hook['id']}", headers=bearer("admin", ids["a"])).status_code == 404
