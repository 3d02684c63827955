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

from mongoengine.queryset.visitor import Q

from shared.events.envelope import utcnow

from . import domain
from .documents import Member, Organisation, OrgMove, OrgStats, Transfer

IN_MEMBERSHIP = ("active", "suspended")  # counted in composition and the join rate


def _month(moment) -> str | None:
    return domain.month_of(moment) if moment else None


TALLIES = ("by_status", "by_gender", "by_employment_type", "by_birth_year", "joined_by_month", "left_by_month",
           "transferred_in_by_month", "transferred_out_by_month")


def _new_counts() -> dict:
    return {**{key: Tally() for key in TALLIES}, "kept": 0}


def _add(total: dict, counts: dict) -> None:
    for key in TALLIES:
        total[key].update(counts.get(key) or {})
    total["kept"] += counts.get("kept", 0)


def _plain(counts: dict) -> dict:
    return {k: (dict(v) if isinstance(v, Tally) else v) for k, v in counts.items()}


def refresh() -> int:
    """Rebuild every organisation's counts, its own and its subtree's; returns how many were written."""
    per_org: dict[str, dict] = defaultdict(_new_counts)
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
    orgs = list(Organisation._get_collection().find({}, {"path": 1, "kind": 1, "status": 1, "headcount": 1}))
    rollup: dict[str, dict] = defaultdict(_new_counts)
    employees: Tally = Tally()
    for raw in orgs:
        own = per_org.get(str(raw["_id"])) or {}
        staffed = raw.get("kind") == "grassroots" and raw.get("status") == "active"
        for ancestor in raw["path"]:
            _add(rollup[ancestor], own)
            employees[ancestor] += (raw.get("headcount") or 0) if staffed else 0
    now = utcnow()
    for raw in orgs:
        org_id = str(raw["_id"])
        OrgStats._get_collection().replace_one(
            {"_id": org_id},
            {"path": raw["path"], "computed_at": now, **_plain(per_org.get(org_id) or _new_counts()),
             "subtree": _plain(rollup[org_id]), "subtree_employees": employees[org_id]},
            upsert=True)
    return len(orgs)


def _moved_since(moment) -> bool:
    """A subtree moved (or is moving) since ``moment``: rollups taken before then put it in the wrong place."""
    return OrgMove.objects(Q(state="following") | Q(requested_at__gte=moment)).only("id").first() is not None


def _age_bands(by_birth_year: Tally, today: date) -> dict:
    bands = Tally()
    for year, count in by_birth_year.items():
        bands[domain.age_band(date(int(year), 7, 1), today)] += count  # mid-year: within a year of exact
    return {name: bands.get(name, 0) for _, _, name in domain.AGE_BANDS}


def subtree(org: Organisation, first_month: str, last_month: str, today: date) -> dict:
    """One document when the counts' rollup is current (no move since it was taken); otherwise the
    counts of every organisation now below ``org`` are summed."""
    own = OrgStats._get_collection().find_one({"_id": str(org.pk)})
    if own and own.get("subtree") and not _moved_since(own["computed_at"]):
        totals = {key: Tally(own["subtree"].get(key) or {}) for key in TALLIES}
        kept, as_of, employees = own["subtree"].get("kept", 0), own["computed_at"], own.get("subtree_employees", 0)
    else:
        totals, kept, as_of = {key: Tally() for key in TALLIES}, 0, None
        for raw in OrgStats._get_collection().find({"path": str(org.pk)}, {"subtree": 0}):
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
