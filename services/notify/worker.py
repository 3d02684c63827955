"""notify worker: consumes the members, contacts, events and welfare topics (read models, messages, and
the email, SMS and webhook deliveries they call for), fans announcements out in batches, sends what is
due, relays gonghui.notify.v1."""
from __future__ import annotations

from shared.worker import WorkerSpec, main

from .app.fanout import fan_out
from .app.reminders import remind
from .app.sending import send_due
from .consumed import CONTACT_EVENTS, CONTACTS_TOPIC, EVENTS_TOPIC, HANDLERS, MEMBERS_TOPIC, WELFARE_TOPIC, contact_handlers
from .documents import ALL, Delivery, InboxMessage
from .published import SOURCE, TOPIC

SPEC = WorkerSpec(source=SOURCE, publishes=TOPIC, outbox_documents=[InboxMessage, Delivery],
                  consumes=[MEMBERS_TOPIC, CONTACTS_TOPIC, EVENTS_TOPIC, WELFARE_TOPIC], handlers=HANDLERS,
                  handler_factory=contact_handlers, factory_types=CONTACT_EVENTS, indexed_documents=ALL,
                  periodic=[(2.0, fan_out), (0.5, send_due), (30.0, remind)])

if __name__ == "__main__":
    main("notify", SPEC)
