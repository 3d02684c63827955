"""members worker: relays the outbox to gonghui.members.v1."""
from __future__ import annotations

from shared.worker import WorkerSpec, main

from .documents import ALL, Member, Organisation
from .published import SOURCE, TOPIC

SPEC = WorkerSpec(source=SOURCE, publishes=TOPIC, outbox_documents=[Organisation, Member], indexed_documents=ALL)

if __name__ == "__main__":
    main("members", SPEC)
