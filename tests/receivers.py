"""The receivers outside the system, run locally for the tests: an SMTP server (aiosmtpd) that keeps a
mailbox, and an SMS gateway (an HTTP server). Each keeps every transmission it got (``received``) and,
as a real mailbox and a real gateway do, one message per Message-ID / Idempotency-Key (``kept``).
``on_receive`` runs when a transmission has arrived, before the receiver answers it (the crash test kills
the sender there)."""
from __future__ import annotations

import json
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from shared.localinfra.process import free_port


class Mailbox:
    """``login``: (user, password) the server requires (AUTH PLAIN/LOGIN, here without TLS)."""

    def __init__(self, login: tuple[str, str] | None = None):
        self.received: list = []  # email.message.EmailMessage, in order of arrival
        self.kept: dict[str, object] = {}  # Message-ID -> the message
        self.lock = threading.Lock()
        self.on_receive = None
        self.port = free_port()
        auth = {}
        if login is not None:
            def authenticator(server, session, envelope, mechanism, data):
                ok = (data.login.decode(), data.password.decode()) == login
                return AuthResult(success=ok)

            auth = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **auth)

    async def handle_DATA(self, server, session, envelope):
        mail = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.lock:
            self.received.append(mail)
            self.kept.setdefault(mail["Message-ID"], mail)
            count = len(self.received)
        if self.on_receive is not None:
            self.on_receive(count)
        return "250 Message accepted for delivery"

    def start(self) -> "Mailbox":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list:
        return [m for m in self.kept.values() if m["To"].addresses[0].addr_spec == address]


class SmsGateway:
    """POST {to, text, ref} with ``Authorization: Bearer <key>``; ``fail_next`` answers that many with 503
    (``refuse_next`` with 400) before taking messages again."""

    def __init__(self, key: str = "sms-test-key"):
        self.key = key
        self.received: list[dict] = []
        self.kept: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.fail_next = 0
        self.refuse_next = 0
        self.on_receive = None
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if len(raw) < length:  # the sender died mid-request: a real gateway never sees the message
                    self.close_connection = True
                    return
                if self.headers.get("Authorization") != f"Bearer {gateway.key}":
                    return self._answer(401, {"error": "bad key"})
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._answer(400, {"error": "body is not JSON"})
                if not isinstance(body, dict) or not body.get("to") or not body.get("text"):
                    return self._answer(400, {"error": "to and text are required"})
                with gateway.lock:
                    if gateway.fail_next:
                        gateway.fail_next -= 1
                        return self._answer(503, {"error": "busy"})
                    if gateway.refuse_next:
                        gateway.refuse_next -= 1
                        return self._answer(400, {"error": "invalid number"})
                    gateway.received.append({**body, "idempotency_key": self.headers.get("Idempotency-Key")})
                    gateway.kept.setdefault(self.headers.get("Idempotency-Key"), body)
                    count = len(gateway.received)
                if gateway.on_receive is not None:
                    gateway.on_receive(count)
                self._answer(200, {"id": body.get("ref")})

            def _answer(self, status, payload):
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def start(self) -> "SmsGateway":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def to(self, phone: str) -> list[dict]:
        return [m for m in self.kept.values() if m["to"] == phone]
