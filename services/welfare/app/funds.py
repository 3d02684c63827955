"""Union funds (工会经费): yearly budgets per organisation and category, the entries staff record by hand,
reversals, budget versus actual (决算) and the export for the funds audit committee (经费审查)."""
from __future__ import annotations

import csv
import io

from bson import ObjectId

from shared import versioned
from shared.errors import Conflict, NotFound, Refused, in_state
from shared.events.envelope import isoformat, utcnow

from ..documents import Budget, LedgerEntry
from ..domain import funds
from . import access, ledger
from .context import Context, Found


def create_budget(ctx: Context, org_id: str, year: int, category: str, budget_fen: int) -> Budget:
    """Staff of the organisation or above set its budget for a year and category (once; corrections go
    through the ledger: contributions and transfers)."""
    view = access.staff_org(ctx, org_id)
    budget = Budget(id=ObjectId(), org_id=org_id, org_path=list(view.path), year=year, category=category,
                    budget_fen=budget_fen, remaining_fen=budget_fen, created_by=ctx.who.sub, created_at=utcnow())
    return versioned.insert(budget, lambda: Conflict(f"the organisation already has a {category} budget for {year}",
                                                     {"category": ["Exists."]}))


def read_budget(ctx: Context, budget_id: str, field: str = "budget_id") -> Budget:
    access.require_staff(ctx)
    budget = Budget.objects(pk=access.object_id(budget_id, "budget")).first()
    if budget is None or not access.sees(ctx, budget.org_path):
        raise NotFound("budget not found", {field: ["No such budget."]})
    return budget


def budgets(ctx: Context, org_id: str | None, year: int | None) -> Found:
    access.require_staff(ctx)
    rows = Budget.objects if ctx.who.org is None else Budget.objects(org_path=ctx.who.org)
    if org_id:
        rows = rows.filter(org_id=org_id)
    return Found(rows.filter(year=year) if year else rows, None)


def record(ctx: Context, budget_id: str, kind: str, amount_fen: int, note: str | None,
           to_budget_id: str | None = None, payment_reference: str | None = None) -> LedgerEntry:
    """An entry by hand: a commitment, a direct disbursement, a contribution received, or a transfer to
    another budget in the caller's scope. Spending and transfers are refused past what remains."""
    budget = read_budget(ctx, budget_id)
    if kind == "transfer":
        if not to_budget_id:
            raise Refused.on("to_budget_id", "a transfer names the budget it goes to")
        target = read_budget(ctx, to_budget_id, "to_budget_id")
        if target.pk == budget.pk:
            raise Refused.on("to_budget_id", "a transfer goes to another budget")
        return ledger.transfer(budget, target, amount_fen, ctx.who.sub, note)
    if to_budget_id:
        raise Refused.on("to_budget_id", "only a transfer names another budget")
    entry, _ = ledger.record(budget, kind, amount_fen, f"manual:{ObjectId()}", ctx.who.sub, committed=False,
                             note=note, payment_reference=payment_reference)
    return entry


def read_entry(ctx: Context, entry_id: str) -> LedgerEntry:
    access.require_staff(ctx)
    entry = LedgerEntry.objects(pk=access.object_id(entry_id, "entry")).first()
    budget = Budget.objects(pk=entry.budget_id).only("org_path").first() if entry else None
    if budget is None or not access.sees(ctx, budget.org_path):
        raise NotFound("entry not found")
    return entry


def entries(ctx: Context, budget_id: str | None, org_id: str | None, year: int | None) -> Found:
    """Entries of one budget, or of the budgets of an organisation (and a year) in the caller's scope."""
    access.require_staff(ctx)
    if budget_id:
        return Found(LedgerEntry.objects(budget_id=read_budget(ctx, budget_id).pk), None)
    found = budgets(ctx, org_id, year).rows.only("id")
    return Found(LedgerEntry.objects(budget_id__in=[b.pk for b in found]), None)


def reverse(ctx: Context, entry_id: str, note: str | None) -> LedgerEntry:
    """A correction of an entry recorded by hand. An application's commitment and disbursement follow its
    workflow (a rejection releases the commitment), so they are not reversed by hand."""
    entry = read_entry(ctx, entry_id)
    if entry.application_id and entry.kind != "reversal":
        raise in_state("entry_id", "an application's entries follow its workflow", "Application.")
    if entry.key.startswith(WORKFLOW_KEYS):
        raise in_state("entry_id", "a visit's, a life event's or an enrolment's entry is not corrected by hand",
                       "Workflow.")
    return ledger.reverse(entry, ctx.who.sub, note)


WORKFLOW_KEYS = ("visit:", "life:", "enrol:")  # entries written by a workflow


REPORT_FIELDS = ("category", "budget_fen", "committed_fen", "disbursed_fen", "outstanding_fen", "contributed_fen",
                 "transferred_in_fen", "transferred_out_fen", "remaining_fen", "balance_fen", "used_percent")


def report(ctx: Context, org_id: str, year: int) -> dict:
    """Budget versus actual (决算) per category of one organisation and year, with the totals."""
    view = access.staff_org(ctx, org_id)
    rows = []
    for budget in Budget.objects(org_id=view.pk, year=year).order_by("category"):
        counters = {key: getattr(budget, key) or 0 for key in ("budget_fen", *funds.COUNTERS)}
        rows.append({"category": budget.category, **counters,
                     "outstanding_fen": counters["committed_fen"] - counters["disbursed_fen"],
                     "balance_fen": funds.balance(counters),
                     "used_percent": round(100 * counters["disbursed_fen"] / counters["budget_fen"], 2)
                     if counters["budget_fen"] else None})
    totals = {key: sum(r[key] for r in rows) for key in REPORT_FIELDS if key not in ("category", "used_percent")}
    return {"org_id": view.pk, "org_name": view.name, "year": year, "categories": rows, "totals": totals}


ENTRY_COLUMNS = ("at", "entry_id", "category", "kind", "amount_fen", "reverses", "application_id", "transfer_id",
                 "counterpart_org_id", "payment_reference", "note", "by")


def _entry_row(entry: LedgerEntry) -> list:
    return [isoformat(entry.at), str(entry.pk), entry.category, entry.kind, entry.amount_fen,
            str(entry.reverses) if entry.reverses else "", str(entry.application_id) if entry.application_id else "",
            entry.transfer_id or "", entry.counterpart_org_id or "", entry.payment_reference or "", entry.note or "",
            entry.by]


def export(ctx: Context, org_id: str, year: int, fmt: str) -> tuple[bytes, str, str]:
    """The report and every entry of the year, as CSV (UTF-8 with BOM, for spreadsheet software) or XLSX;
    every text cell that a spreadsheet would run as a formula is neutralised. (bytes, mimetype, filename)"""
    summary = report(ctx, org_id, year)
    budget_ids = [b.pk for b in Budget.objects(org_id=org_id, year=year).only("id")]
    entry_rows = [_entry_row(e) for e in LedgerEntry.objects(budget_id__in=budget_ids).order_by("at", "id")]
    summary_rows = [[row[key] if row[key] is not None else "" for key in REPORT_FIELDS]
                    for row in summary["categories"]]
    title = [f"{summary['org_name'] or org_id} {year}"]
    name = f"funds-{org_id}-{year}.{fmt}"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        for row in [title, list(REPORT_FIELDS), *summary_rows, [], list(ENTRY_COLUMNS), *entry_rows]:
            writer.writerow([funds.neutralised(cell) for cell in row])
        return ("\ufeff" + out.getvalue()).encode(), "text/csv; charset=utf-8", name
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def cells(row):
        return [ILLEGAL_CHARACTERS_RE.sub("", c) if isinstance(c, str) else c for c in map(funds.neutralised, row)]

    book = Workbook()
    sheet = book.active
    sheet.title = "决算"
    for row in [title, list(REPORT_FIELDS), *summary_rows]:
        sheet.append(cells(row))
    ledger_sheet = book.create_sheet("ledger")
    for row in [list(ENTRY_COLUMNS), *entry_rows]:
        ledger_sheet.append(cells(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name
