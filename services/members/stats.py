"""Membership statistics, kept as per-organisation counts.

The worker rebuilds the counts in one pass over members and transfers; a
dashboard call then sums the counts of the organisations in a subtree, which
stays fast however many members there are. Answers say when the counts were
taken (``as_of``).
"""
from __future__ import annotations

from collections import Counter as Tally
from collections import defaultdict
from datetime import date

from shared.events.envelope import utcnow

from . import domain
from .documents import Member, Organisation, OrgStats, Transfer

IN_MEMBERSHIP = ("active", "suspended")  # counted in composition and the join rate


def _month(moment) -> str | None:
    return domain.month_of(moment) if moment else None


def refresh() -> int:
    """Rebuild every organisation's counts; returns how many were written."""
    per_org: dict[str, dict] = defaultdict(lambda: {
        "by_status": Tally(), "by_gender": Tally(), "by_employment_type": Tally(), "by_birth_year": Tally(),
        "kept": 0, "joined_by_month": Tally(), "left_by_month": Tally(),
        "transferred_in_by_month": Tally(), "transferred_out_by_month": Tally()})
    fields = {"org_id": 1, "status": 1, "gender": 1, "employment_type": 1, "birth_year": 1, "kept_reason": 1,
              "joined_at": 1, "left_at": 1}
    for raw in Member._get_collection().find({}, fields):
        counts = per_org[raw["org_id"]]
        counts["by_status"][raw["status"]] += 1
        if raw["status"] in IN_MEMBERSHIP:
            counts["by_gender"][raw["gender"]] += 1
            counts["by_employment_type"][raw["employment_type"]] += 1
            if raw.get("birth_year"):
                counts["by_birth_year"][str(raw["birth_year"])] += 1
            counts["kept"] += bool(raw.get("kept_reason"))
        if raw.get("joined_at"):
            counts["joined_by_month"][_month(raw["joined_at"])] += 1
        if raw.get("left_at"):
            counts["left_by_month"][_month(raw["left_at"])] += 1
    for raw in Transfer._get_collection().find({"status": "accepted"}, {"from_org_id": 1, "to_org_id": 1,
                                                                         "decided_at": 1}):
        month = _month(raw.get("decided_at"))
        per_org[raw["to_org_id"]]["transferred_in_by_month"][month] += 1
        per_org[raw["from_org_id"]]["transferred_out_by_month"][month] += 1
    now = utcnow()
    written = 0
    for raw in Organisation._get_collection().find({}, {"path": 1}):
        org_id = str(raw["_id"])
        counts = per_org.get(org_id) or per_org[org_id]
        OrgStats._get_collection().replace_one(
            {"_id": org_id},
            {"path": raw["path"], "computed_at": now,
             **{k: (dict(v) if isinstance(v, Tally) else v) for k, v in counts.items()}},
            upsert=True)
        written += 1
    return written


def _age_bands(by_birth_year: Tally, today: date) -> dict:
    bands = Tally()
    for year, count in by_birth_year.items():
        bands[domain.age_band(date(int(year), 7, 1), today)] += count  # mid-year: within a year of exact
    return {name: bands.get(name, 0) for _, _, name in domain.AGE_BANDS}


def subtree(org: Organisation, first_month: str, last_month: str, today: date) -> dict:
    totals = {key: Tally() for key in ("by_status", "by_gender", "by_employment_type", "by_birth_year",
                                       "joined_by_month", "left_by_month", "transferred_in_by_month",
                                       "transferred_out_by_month")}
    kept, as_of = 0, None
    for raw in OrgStats._get_collection().find({"path": str(org.pk)}):
        for key in totals:
            totals[key].update(raw.get(key) or {})
        kept += raw.get("kept", 0)
        as_of = raw["computed_at"] if as_of is None or raw["computed_at"] < as_of else as_of
    employees = sum(raw.get("headcount") or 0 for raw in Organisation._get_collection().find(
        {"path": str(org.pk), "kind": "grassroots", "status": "active"}, {"headcount": 1}))
    in_membership = sum(totals["by_status"].get(s, 0) for s in IN_MEMBERSHIP)

    def in_period(tally: Tally) -> int:
        return sum(n for month, n in tally.items() if month and first_month <= month <= last_month)

    return {
        "org_id": str(org.pk),
        "as_of": as_of,
        "members": in_membership,
        "by_status": {s: totals["by_status"].get(s, 0) for s in domain.MEMBER_STATUSES},
        "by_gender": {g: totals["by_gender"].get(g, 0) for g in domain.GENDERS},
        "by_employment_type": {e: totals["by_employment_type"].get(e, 0) for e in domain.EMPLOYMENT_TYPES},
        "by_age_band": _age_bands(totals["by_birth_year"], today),
        "kept": kept,
        "period": {"from": first_month, "to": last_month, "joined": in_period(totals["joined_by_month"]),
                   "left": in_period(totals["left_by_month"]),
                   "transferred_in": in_period(totals["transferred_in_by_month"]),
                   "transferred_out": in_period(totals["transferred_out_by_month"])},
        "employees": employees,
        "join_rate": round(in_membership / employees, 4) if employees else None,
    }
