"""welfare worker: keeps the member and organisation read models from gonghui.members.v1, relays the
outbox to gonghui.welfare.v1, recounts budgets that a request dying half way left wrong, and closes
public notices that have run their days,
and finishes generating campaigns' visit lists a request left unfinished."""
from __future__ import annotations

from shared.worker import WorkerSpec, main

from .app.campaigns import generate_pending
from .app.hardship import close_notices
from .app.ledger import repair
from .consumed import HANDLERS, MEMBERS_TOPIC
from .documents import ALL, OUTBOX_DOCUMENTS
from .published import SOURCE, TOPIC


def repair_budgets(_settings=None) -> int:
    return len(repair())


SPEC = WorkerSpec(source=SOURCE, publishes=TOPIC, outbox_documents=OUTBOX_DOCUMENTS, consumes=[MEMBERS_TOPIC],
                  handlers=HANDLERS, indexed_documents=ALL, periodic=[(60.0, repair_budgets), (60.0, close_notices),
                                                                          (30.0, generate_pending)])

if __name__ == "__main__":
    main("welfare", SPEC)
