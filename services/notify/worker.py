"""notify worker: consumes the members, contacts, events and welfare topics (read models and messages),
fans announcements out in batches, relays gonghui.notify.v1."""
from __future__ import annotations

from shared.worker import WorkerSpec, main

from .app.fanout import fan_out
from .consumed import CONTACT_EVENTS, CONTACTS_TOPIC, EVENTS_TOPIC, HANDLERS, MEMBERS_TOPIC, WELFARE_TOPIC, contact_handlers
from .documents import ALL, InboxMessage
from .published import SOURCE, TOPIC

SPEC = WorkerSpec(source=SOURCE, publishes=TOPIC, outbox_documents=[InboxMessage],
                  consumes=[MEMBERS_TOPIC, CONTACTS_TOPIC, EVENTS_TOPIC, WELFARE_TOPIC], handlers=HANDLERS,
                  handler_factory=contact_handlers, factory_types=CONTACT_EVENTS, indexed_documents=ALL,
                  periodic=[(2.0, fan_out)])

if __name__ == "__main__":
    main("notify", SPEC)
