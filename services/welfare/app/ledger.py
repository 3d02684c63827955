"""The ledger and its budgets' counters, so that no budget is overspent whatever number of processes race.

An entry's effect on its budget (``domain.funds.deltas``) is applied first, by one conditional increment
of the budget document: what lowers ``remaining_fen`` is applied only if at least that much remains (the
filter ``remaining_fen >= amount``), in one write. The entry is inserted after it, under a unique ``key``
(one commitment and one disbursement per application, one reversal per entry); an insert refused as a
duplicate gives the increment back. Entries are only ever inserted.

A process dying between the increment and the insert leaves the counters ahead of the ledger; the
worker's ``repair`` recounts a budget from its entries once it has been quiet for a while (no request
can still be on its way), in a write guarded by ``changes`` so that it never overwrites counters that
moved meanwhile. It also completes a transfer whose receiving side a dying process did not write."""
from __future__ import annotations

from datetime import timedelta

from bson import ObjectId
from pymongo import ReturnDocument

from shared.db import is_duplicate_key
from shared.errors import Conflict, Refused, refuse_unless
from shared.events.envelope import aware, utcnow

from ..documents import Budget, LedgerEntry
from ..domain import funds

QUIET = timedelta(minutes=2)  # far beyond any request's time limit (gunicorn's is 30 s)
RECENT = timedelta(hours=1)  # how far back repair looks for budgets that changed


def _collection():
    return Budget._get_collection()


def apply(budget_id: ObjectId, changes: dict[str, int]) -> dict | None:
    """Apply ``changes`` to the budget's counters if enough remains; the budget after, or None."""
    need = funds.needs(changes)
    conditions = {"remaining_fen": {"$gte": need}} if need else {}
    return _collection().find_one_and_update(
        {"_id": budget_id, **conditions}, {"$inc": {**changes, "changes": 1}, "$set": {"changed_at": utcnow()}},
        return_document=ReturnDocument.AFTER)


def give_back(budget_id: ObjectId, changes: dict[str, int]) -> None:
    """Undo an ``apply`` whose entry was not written."""
    _collection().update_one({"_id": budget_id}, {"$inc": {**funds.reversal(changes), "changes": 1},
                                                  "$set": {"changed_at": utcnow()}})


def existing(key: str) -> LedgerEntry | None:
    return LedgerEntry.objects(key=key).first()


def record(budget: Budget, kind: str, amount_fen: int, key: str, by: str, committed: bool = True,
           changes: dict | None = None, **fields) -> tuple[LedgerEntry, bool]:
    """Write an entry and apply it to its budget; (the entry, True), or (the entry already written under
    ``key``, False). Refused (422) when the budget would be overspent."""
    changes = changes if changes is not None else refuse_unless(funds.deltas, kind, amount_fen, committed)
    if apply(budget.pk, changes) is None:
        if not Budget.objects(pk=budget.pk).count():
            raise Conflict("the budget is gone")
        raise Refused.on("amount_fen", f"the {budget.category} budget of {budget.year} would be overspent",
                         "Over the budget.")
    entry = LedgerEntry(id=ObjectId(), key=key, budget_id=budget.pk, org_id=budget.org_id, year=budget.year,
                        category=budget.category, kind=kind, amount_fen=amount_fen, deltas=changes, by=by,
                        at=utcnow(), **fields)
    try:
        entry.save(force_insert=True)
    except BaseException as exc:
        give_back(budget.pk, changes)
        if is_duplicate_key(exc):
            return existing(key), False
        raise
    return entry, True


def reverse(entry: LedgerEntry, by: str, note: str | None) -> LedgerEntry:
    """A reversal entry undoing exactly what ``entry`` did (refused if it would overspend the budget,
    e.g. a contribution already spent); once per entry. A transfer is reversed on both sides, the
    receiving side first (refused if the money was spent there)."""
    refuse_unless(funds.check_reversible, entry.kind)
    if entry.transfer_id and entry.kind in ("transfer_out", "transfer_in"):
        sides = sorted(LedgerEntry.objects(transfer_id=entry.transfer_id, kind__in=["transfer_out", "transfer_in"]),
                       key=lambda e: e.kind != "transfer_in")
        reversals = {side.pk: _reverse_one(side, by, note) for side in sides}
        return reversals[entry.pk]
    return _reverse_one(entry, by, note)


def _reverse_one(entry: LedgerEntry, by: str, note: str | None) -> LedgerEntry:
    budget = Budget.objects(pk=entry.budget_id).first()
    if existing(f"reverse:{entry.pk}") is not None:
        raise Conflict("the entry was already reversed", {"entry_id": ["Reversed."]}, code="invalid_state")
    reversal, created = record(budget, "reversal", entry.amount_fen, f"reverse:{entry.pk}", by,
                               changes=funds.reversal(dict(entry.deltas)), reverses=entry.pk,
                               application_id=entry.application_id, transfer_id=entry.transfer_id, note=note)
    if not created:
        raise Conflict("the entry was already reversed", {"entry_id": ["Reversed."]}, code="invalid_state")
    return reversal


def transfer(source: Budget, target: Budget, amount_fen: int, by: str, note: str | None) -> LedgerEntry:
    """Money moved from one budget to another: the paying side is refused if it would overspend; the
    receiving side follows (``repair`` completes it if the process dies in between)."""
    transfer_id = ObjectId()
    out, _ = record(source, "transfer_out", amount_fen, f"transfer:{transfer_id}:out", by,
                    transfer_id=str(transfer_id), counterpart_org_id=target.org_id,
                    counterpart_budget_id=target.pk, note=note)
    _receive(out, target)
    return out


def _receive(out: LedgerEntry, target: Budget) -> None:
    record(target, "transfer_in", out.amount_fen, f"transfer:{out.transfer_id}:in", out.by,
           transfer_id=out.transfer_id, counterpart_org_id=out.org_id, counterpart_budget_id=out.budget_id,
           note=out.note)


def counters_of(budget_id: ObjectId) -> dict[str, int]:
    """The counters the ledger says the budget has (without ``budget_fen``)."""
    totals = dict.fromkeys(funds.COUNTERS, 0)
    for raw in LedgerEntry._get_collection().find({"budget_id": budget_id}, {"deltas": 1}):
        for key, value in (raw.get("deltas") or {}).items():
            totals[key] = totals.get(key, 0) + value
    return totals


def recount(budget_id: ObjectId, now=None) -> bool:
    """Make a quiet budget's counters those of its ledger; True when they were wrong."""
    raw = _collection().find_one({"_id": budget_id})
    if raw is None or (raw.get("changed_at") and aware(raw["changed_at"]) > (now or utcnow()) - QUIET):
        return False
    totals = counters_of(budget_id)
    totals["remaining_fen"] += raw.get("budget_fen", 0)
    if all(raw.get(key, 0) == value for key, value in totals.items()):
        return False
    return bool(_collection().update_one({"_id": budget_id, "changes": raw.get("changes")},
                                         {"$set": totals}).modified_count)


def complete_transfers(now=None) -> int:
    """Write the receiving side of transfers whose paying side is older than the quiet period."""
    now = now or utcnow()
    done = 0
    for out in LedgerEntry.objects(kind="transfer_out", at__gte=now - RECENT - QUIET, at__lt=now - QUIET):
        if existing(f"transfer:{out.transfer_id}:in") is None:
            target = Budget.objects(pk=out.counterpart_budget_id).first()
            if target is not None:
                _receive(out, target)
                done += 1
    return done


def repair(now=None) -> list[ObjectId]:
    """Recount the budgets that changed within the last hour and have been quiet since; returns those whose
    counters were wrong (a process died half way)."""
    now = now or utcnow()
    complete_transfers(now)
    changed = _collection().find({"changed_at": {"$gte": now - RECENT, "$lt": now - QUIET}}, {"_id": 1})
    return [raw["_id"] for raw in changed if recount(raw["_id"], now)]
