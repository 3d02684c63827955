"""members worker: relays the outbox to gonghui.members.v1."""
from __future__ import annotations

from shared.worker import WorkerSpec, main

from . import transfers, tree
from .documents import ALL, DuesAccount, Member, Organisation, Transfer
from .published import SOURCE, TOPIC

SPEC = WorkerSpec(
    source=SOURCE, publishes=TOPIC, outbox_documents=[Organisation, Member, Transfer, DuesAccount], indexed_documents=ALL,
    periodic=[(60.0, transfers.expire_due), (60.0, transfers.finish_accepted), (3600.0, tree.repair_paths)],
)

if __name__ == "__main__":
    main("members", SPEC)
