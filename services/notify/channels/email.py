"""Email over SMTP (smtplib): STARTTLS, implicit TLS or plain, with or without credentials; one connection
per sending thread, reopened after a failure. The Message-ID comes from the delivery's key, so a mail
sent again after a crash carries the same one and the mailbox keeps one."""
from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from shared.config import Settings

from . import Retry, Undeliverable
from .addresses import Addresses, without


def message_id(key: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "gonghui.example"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


class EmailChannel:
    name = "email"

    def __init__(self, settings: Settings, addresses: Addresses):
        self.settings = settings
        self.addresses = addresses
        self._smtp: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            s = self.settings
            context = ssl.create_default_context()
            if s.smtp_tls == "ssl":
                smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=15, context=context)
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=15)
                if s.smtp_tls == "starttls":
                    smtp.starttls(context=context)
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password)
            self._smtp = smtp
        return self._smtp

    def send(self, delivery: dict) -> None:
        if not self.settings.smtp_host:
            raise Undeliverable("email is not configured (GONGHUI_SMTP_HOST)")
        to = self.addresses.email(delivery.get("member_id"))
        if not to:
            raise Undeliverable("no email address")
        mail = EmailMessage()
        mail["From"] = self.settings.smtp_from
        mail["To"] = Address(addr_spec=to) if "@" in to else to
        mail["Subject"] = delivery.get("subject") or "工会通知"
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(delivery["key"], self.settings.smtp_from)
        mail.set_content(delivery["body"])
        try:
            self._connection().send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(500 <= code < 600 for code in codes):
                raise Undeliverable(f"recipient refused: {codes}") from None
            raise Retry(f"recipient deferred: {codes}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise Retry(without(f"{type(exc).__name__}: {exc}", to)) from None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._smtp = None
