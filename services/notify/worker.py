"""notify worker: consumes gonghui.members.v1, relays gonghui.notify.v1."""
from __future__ import annotations

from shared.worker import WorkerSpec, main

from .consumed import CONTACT_EVENTS, CONTACTS_TOPIC, HANDLERS, MEMBERS_TOPIC, contact_handlers
from .documents import ALL, InboxMessage
from .published import SOURCE, TOPIC

SPEC = WorkerSpec(source=SOURCE, publishes=TOPIC, outbox_documents=[InboxMessage],
                  consumes=[MEMBERS_TOPIC, CONTACTS_TOPIC], handlers=HANDLERS, handler_factory=contact_handlers,
                  factory_types=CONTACT_EVENTS,
                  indexed_documents=ALL)

if __name__ == "__main__":
    main("notify", SPEC)
