"""Condolence campaigns (慰问, 送温暖) over a subtree: the visit list, generated in batches from the hardship
registry (filed files) or the member read model (active members, optionally of some employment types);
each visit recorded once and paid from the campaign organisation's condolences budget through the ledger;
progress per child organisation.

Generation never reads a whole collection: it walks the source by ascending id under the indexed
``org_path`` filter, BATCH at a time, and inserts each batch in bulk (unordered). A visit's ``key``
(campaign:member) is unique, so a generation retried or run by two processes at once lists nobody twice;
the campaign's ``generated_after`` (written after each batch) lets it continue where it stopped, in the
request that created the campaign, in ``POST .../generate``, or in the worker."""
from __future__ import annotations

import time
from datetime import date

from bson import ObjectId

from shared import versioned
from shared.db import insert_new
from shared.errors import NotFound, Refused, in_state, refuse_unless
from shared.events.envelope import utcnow

from ..documents import Budget, Campaign, HardshipFile, MemberView, OrgView, Visit
from ..domain import condolences
from ..published.condolences import CAMPAIGN_VISIT_RECORDED, visit_recorded
from . import access, ledger
from .context import Context, Found
from .writes import write

BATCH = 1000
TIME_BUDGET = 10.0  # seconds one request spends generating; the rest is done by the next call or the worker


def create(ctx: Context, org_id: str, name: str, kind: str, source: str | None, employment_types: list[str],
           amount_fen: int, year: int | None) -> Campaign:
    view = access.staff_org(ctx, org_id)
    source = source or condolences.DEFAULT_SOURCE[kind]
    refuse_unless(condolences.check_source, kind, source, employment_types)
    now = utcnow()
    campaign = Campaign(id=ObjectId(), org_id=view.pk, org_path=list(view.path), name=name, kind=kind, source=source,
                        employment_types=employment_types, amount_fen=amount_fen, year=year or now.year,
                        created_by=ctx.who.sub, created_at=now)
    campaign.save(force_insert=True)
    generate_some(campaign)
    return campaign


def _visible(ctx: Context, campaign: Campaign) -> bool:
    """Staff of the campaign's organisation or above, and staff below it (who visit their members)."""
    return access.sees(ctx, campaign.org_path) or (
        access.is_staff(ctx) and ctx.who.org is not None and campaign.org_id in access.own_path(ctx))


def read(ctx: Context, campaign_id: str) -> Campaign:
    access.require_staff(ctx)
    campaign = Campaign.objects(pk=access.object_id(campaign_id, "campaign")).first()
    if campaign is None or not _visible(ctx, campaign):
        raise NotFound("campaign not found")
    return campaign


def listing(ctx: Context, status: str | None) -> Found:
    from mongoengine.queryset.visitor import Q

    access.require_staff(ctx)
    if ctx.who.org is None:
        rows = Campaign.objects
    else:
        rows = Campaign.objects(Q(org_path=ctx.who.org) | Q(org_id__in=access.own_path(ctx)))
    return Found(rows.filter(status=status) if status else rows, None)


def _source_batch(campaign: Campaign, after: str | None) -> list[tuple[str, str, list[str], ObjectId | None]]:
    """The next batch of (last source id, member id, member's path, file id), ascending ids."""
    if campaign.source == "hardship":
        rows = HardshipFile.objects(org_path=campaign.org_id, status="filed")
        if after:
            rows = rows.filter(id__gt=ObjectId(after))
        rows = rows.only("id", "member_id", "org_path").order_by("id").limit(BATCH)
        return [(str(f.pk), f.member_id, list(f.org_path), f.pk) for f in rows]
    rows = MemberView.objects(org_path=campaign.org_id, status="active")
    if campaign.employment_types:
        rows = rows.filter(employment_type__in=list(campaign.employment_types))
    if after:
        rows = rows.filter(id__gt=after)
    rows = rows.only("id", "org_path").order_by("id").limit(BATCH)
    return [(m.pk, m.pk, list(m.org_path), None) for m in rows]


def _insert(campaign: Campaign, batch) -> int:
    docs = [{"_id": ObjectId(), "key": f"{campaign.pk}:{member_id}", "campaign_id": campaign.pk,
             "member_id": member_id, **({"file_id": file_id} if file_id else {}), "org_id": path[-1],
             "org_path": path, "status": "pending", "version": 1, "outbox": []}
            for _, member_id, path, file_id in batch if path]
    if not docs:
        return 0
    return len(docs) - len(insert_new(Visit._get_collection(), docs))  # those listed already: a retried batch


def generate_some(campaign: Campaign, budget_seconds: float | None = None) -> Campaign:
    """Continue the visit list from where it stopped, batch by batch, for at most ``budget_seconds``;
    the campaign opens once the source is exhausted (its ``visits`` counted then, by the indexed filter)."""
    started, budget_seconds = time.monotonic(), TIME_BUDGET if budget_seconds is None else budget_seconds
    while campaign.status == "generating":
        batch = _source_batch(campaign, campaign.generated_after)
        if batch:
            _insert(campaign, batch)
            sets = {"generated_after": batch[-1][0]}
        else:
            sets = {"status": "open", "generated_at": utcnow(),
                    "visits": Visit.objects(campaign_id=campaign.pk).count()}
        if not write(campaign, conditions={"status": "generating"}, sets=sets):
            campaign.reload()  # another process moved it on: continue from there
        if time.monotonic() - started > budget_seconds:
            break
    return campaign


def generate(ctx: Context, campaign_id: str) -> Campaign:
    campaign = read(ctx, campaign_id)
    if not access.sees(ctx, campaign.org_path):
        raise NotFound("campaign not found")
    refuse_unless(condolences.check_generating, campaign.status)
    return generate_some(campaign)


def generate_pending(_settings=None) -> int:
    """The worker's part: campaigns whose generation a request left unfinished."""
    done = 0
    for campaign in Campaign.objects(status="generating").limit(20):
        generate_some(campaign, budget_seconds=30.0)
        done += 1
    return done


def close(ctx: Context, campaign_id: str) -> Campaign:
    campaign = read(ctx, campaign_id)
    if not access.sees(ctx, campaign.org_path):
        raise NotFound("campaign not found")
    refuse_unless(condolences.check_open, campaign.status)
    if not write(campaign, conditions={"status": "open"}, sets={"status": "closed"}):
        raise in_state("status", "the campaign changed meanwhile; read it again")
    return campaign


def visits(ctx: Context, campaign_id: str, status: str | None, org_id: str | None) -> Found:
    """The visit list, as far as the caller's scope reaches."""
    campaign = read(ctx, campaign_id)
    rows = Visit.objects(campaign_id=campaign.pk)
    if ctx.who.org is not None and not access.sees(ctx, campaign.org_path):
        rows = rows.filter(org_path=ctx.who.org)
    if org_id:
        rows = rows.filter(org_path=org_id)
    return Found(rows.filter(status=status) if status else rows, None)


def read_visit(ctx: Context, visit_id: str) -> tuple[Visit, Campaign]:
    access.require_staff(ctx)
    visit = Visit.objects(pk=access.object_id(visit_id, "visit")).first()
    if visit is None or not access.sees(ctx, visit.org_path):
        raise NotFound("visit not found")
    return visit, Campaign.objects(pk=visit.campaign_id).first()


def record(ctx: Context, visit_id: str, visited_by: str, visited_on: date, amount_fen: int | None,
           note: str | None) -> Visit:
    """Staff of the visited member's branch or above record the visit once; its amount (at most the
    campaign's per head) is paid from the campaign organisation's condolences budget, refused (422) when
    that would overspend it. The ledger entry's key is the visit's: two racing recorders spend once."""
    visit, campaign = read_visit(ctx, visit_id)
    refuse_unless(condolences.check_open, campaign.status)
    refuse_unless(condolences.check_visit, visit.status)
    refuse_unless(condolences.check_visited_on, visited_on, utcnow().date())
    amount = amount_fen or campaign.amount_fen
    refuse_unless(condolences.check_visit_amount, amount, campaign.amount_fen)
    budget = Budget.objects(org_id=campaign.org_id, year=campaign.year, category=condolences.BUDGET_CATEGORY).first()
    if budget is None:
        raise Refused.on("amount_fen", f"the campaign's organisation has no condolences budget for {campaign.year}",
                         "No budget.")
    entry, _ = ledger.record(budget, "disbursement", amount, f"visit:{visit.pk}", ctx.who.sub, committed=False,
                             note=f"{campaign.name}")
    sets = {"status": "visited", "amount_fen": entry.amount_fen, "visited_by": visited_by, "visited_on": visited_on,
            "note": note, "entry_id": entry.pk, "recorded_by": ctx.who.sub, "recorded_at": utcnow()}
    if not versioned.write(visit, [(CAMPAIGN_VISIT_RECORDED, visit_recorded(campaign))],
                           conditions={"status": "pending"}, sets=sets):
        raise in_state("status", "the visit was recorded meanwhile")
    return visit


def progress(ctx: Context, campaign_id: str) -> dict:
    """Visited and total, and the amount given, per child organisation of the campaign's (and in total):
    the totals by a count per organisation under the indexed campaign filter, the amounts from the visited
    ones (limited to the caller's part of the tree). ($sum of a field gave 0 on FerretDB.)"""
    campaign = read(ctx, campaign_id)
    match = {"campaign_id": campaign.pk}
    if ctx.who.org is not None and not access.sees(ctx, campaign.org_path):
        match["org_path"] = ctx.who.org
    collection = Visit._get_collection()
    totals = {r["_id"]: r["n"] for r in collection.aggregate(
        [{"$match": match}, {"$group": {"_id": "$org_id", "n": {"$sum": 1}}}])}
    visited: dict[str, tuple[int, int]] = {}
    for raw in collection.find({**match, "status": "visited"}, {"org_id": 1, "amount_fen": 1}):  # the visited only
        n, amount = visited.get(raw["org_id"], (0, 0))
        visited[raw["org_id"]] = (n + 1, amount + (raw.get("amount_fen") or 0))
    depth = len(campaign.org_path)
    paths = {v.pk: list(v.path) for v in OrgView.objects(pk__in=list(totals)).only("id", "path")}
    rows: dict[str, dict] = {}
    for org_id, total in totals.items():
        path = paths.get(org_id) or [org_id]
        child = path[depth] if len(path) > depth and path[depth - 1] == campaign.org_id else campaign.org_id
        row = rows.setdefault(child, {"org_id": child, "total": 0, "visited": 0, "amount_fen": 0})
        n, amount = visited.get(org_id, (0, 0))
        row["total"] += total
        row["visited"] += n
        row["amount_fen"] += amount
    names = {v.pk: v.name for v in OrgView.objects(pk__in=list(rows)).only("id", "name")}
    children = sorted(({**r, "org_name": names.get(r["org_id"])} for r in rows.values()), key=lambda r: r["org_id"])
    return {"campaign_id": str(campaign.pk), "status": campaign.status, "children": children,
            "total": sum(r["total"] for r in children), "visited": sum(r["visited"] for r in children),
            "amount_fen": sum(r["amount_fen"] for r in children)}
