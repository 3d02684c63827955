"""events worker: keeps the member and organisation read models from gonghui.members.v1, relays the
outbox to gonghui.events.v1, and gives back places that requests dying half way had taken."""
from __future__ import annotations

from shared.worker import WorkerSpec, main

from .app.places import repair
from .consumed import HANDLERS, MEMBERS_TOPIC
from .documents import ALL, OUTBOX_DOCUMENTS
from .published import SOURCE, TOPIC

SPEC = WorkerSpec(source=SOURCE, publishes=TOPIC, outbox_documents=OUTBOX_DOCUMENTS, consumes=[MEMBERS_TOPIC],
                  handlers=HANDLERS, indexed_documents=ALL, periodic=[(60.0, repair)])

if __name__ == "__main__":
    main("events", SPEC)
