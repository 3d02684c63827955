"""Union funds (工会经费): what each kind of ledger entry does to its budget's counters, and the export's
protection against formula injection. Amounts are integer fen, always positive in an entry: its kind
says which way it goes.

A budget's counters (all fen):

- ``budget_fen``: the year's budget for the category;
- ``committed_fen``: spending authority used (approved commitments, direct disbursements), net of reversals;
- ``disbursed_fen``: money paid out; ``contributed_fen``: money received; ``transferred_in_fen`` /
  ``transferred_out_fen``: money moved between budgets;
- ``remaining_fen`` = budget + contributed + transferred in - transferred out - committed: what may
  still be committed; never below zero (every change that lowers it is conditional on it);
- the balance (cash) = budget + contributed + transferred in - transferred out - disbursed.
"""
from __future__ import annotations

from shared.rules import DomainError

CATEGORIES = ("activities", "assistance", "condolences", "training", "culture", "administration", "mutual_aid",
              "other")
ENTRY_KINDS = ("commitment", "disbursement", "contribution", "transfer_out", "transfer_in", "reversal")
MANUAL_KINDS = ("commitment", "disbursement", "contribution", "transfer")  # what staff record by hand
COUNTERS = ("committed_fen", "disbursed_fen", "contributed_fen", "transferred_in_fen", "transferred_out_fen",
            "remaining_fen")
MAX_FEN = 10_000_000_000_00  # ten billion yuan: far beyond any union budget, well inside 64 bits


def deltas(kind: str, amount_fen: int, committed: bool = True) -> dict[str, int]:
    """The counter changes of an entry of ``kind``. A disbursement against a commitment (``committed``)
    only pays; a direct one also uses spending authority."""
    if amount_fen <= 0:
        raise DomainError("amount_fen", "an entry's amount is positive; its kind says which way it goes")
    a = amount_fen
    if kind == "commitment":
        return {"committed_fen": a, "remaining_fen": -a}
    if kind == "disbursement":
        return {"disbursed_fen": a} if committed else {"disbursed_fen": a, "committed_fen": a, "remaining_fen": -a}
    if kind == "contribution":
        return {"contributed_fen": a, "remaining_fen": a}
    if kind == "transfer_out":
        return {"transferred_out_fen": a, "remaining_fen": -a}
    if kind == "transfer_in":
        return {"transferred_in_fen": a, "remaining_fen": a}
    raise DomainError("kind", f"no counters for an entry of kind {kind}")


def reversal(deltas_of_entry: dict[str, int]) -> dict[str, int]:
    """A reversal undoes exactly what the entry did."""
    return {key: -value for key, value in deltas_of_entry.items()}


def needs(changes: dict[str, int]) -> int:
    """How much must remain for the change to be allowed (0 when it does not lower what remains)."""
    return max(0, -changes.get("remaining_fen", 0))


def check_reversible(kind: str) -> None:
    if kind == "reversal":
        raise DomainError("entry_id", "a reversal is not reversed; record a new entry instead")


def balance(counters: dict) -> int:
    return (counters.get("budget_fen", 0) + counters.get("contributed_fen", 0) + counters.get("transferred_in_fen", 0)
            - counters.get("transferred_out_fen", 0) - counters.get("disbursed_fen", 0))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value):
    """A cell as a spreadsheet will not run it: text starting like a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
