"""events worker: keeps the member read model from gonghui.members.v1."""
from __future__ import annotations

from shared.worker import WorkerSpec, main

from .consumed import HANDLERS, MEMBERS_TOPIC
from .documents import ALL
from .published import SOURCE, TOPIC

SPEC = WorkerSpec(source=SOURCE, publishes=TOPIC, outbox_documents=[], consumes=[MEMBERS_TOPIC],
                  handlers=HANDLERS, indexed_documents=ALL)

if __name__ == "__main__":
    main("events", SPEC)
