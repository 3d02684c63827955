"""members worker: relays the outbox to gonghui.members.v1, reads attendance from
gonghui.events.v1, and runs the periodic jobs (transfer expiry and completion,
following subtree moves, the daily six-month check)."""
from __future__ import annotations

from shared.worker import WorkerSpec, in_own_process, main

from . import imports, keys, migrations, reviews, stats, transfers, tree
from .consumed import EVENTS_TOPIC, HANDLERS
from .documents import ALL, DuesAccount, Member, Organisation, Review, Transfer
from .published import ROUTES, SOURCE, TOPIC


def import_rosters(settings):
    """Every roster waiting, one after another (in a process of its own: see SPEC)."""
    return imports.process_pending(*keys.vaults(settings))


def sweep_imports(_settings):
    """Uploaded rosters are kept only while their import waits or runs, and never past RETAIN_FOR."""
    return imports.sweep()


SPEC = WorkerSpec(
    source=SOURCE, publishes=TOPIC, routes=ROUTES, indexed_documents=ALL,
    outbox_documents=[Organisation, Member, Transfer, DuesAccount, Review],
    consumes=[EVENTS_TOPIC], handlers=HANDLERS,
    periodic=[(2.0, in_own_process(import_rosters, when=imports.waiting)),
              (600.0, sweep_imports),
              (60.0, lambda _: transfers.expire_due()),
              (60.0, lambda _: transfers.finish_accepted()),
              (1.0, lambda _: tree.follow_moves()),
              (86400.0, lambda _: reviews.open_education_reviews()),
              (86400.0, lambda settings: migrations.forget_birth_dates(keys.pii_vault(settings))),
              (lambda settings: settings.stats_refresh_seconds, lambda _: stats.refresh())],
)

if __name__ == "__main__":
    main("members", SPEC)
