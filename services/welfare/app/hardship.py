"""The hardship registry (困难职工档案, 建档立卡).

A file is submitted for a member (by staff of its branch or above, or by the member itself), visited
(入户调查: who, when, findings), put on public notice (公示) for the organisation's number of days, during
which members of the same union lodge objections that staff resolve, approved by the level above the
branch (never while an objection is unresolved) and so filed with a review date. Files past their review
date are listed for re-checking, which renews or closes them (解困脱困); every step stays in the history.

Health, income and household circumstances are sealed (``keys``), opened only for staff in scope, and
every such read is recorded (``DetailsAccess``); events never carry them."""
from __future__ import annotations

from datetime import date, timedelta

from bson import ObjectId
from pymongo import ReturnDocument

from shared import versioned
from shared.errors import Forbidden, NotFound, in_state, refuse_unless
from shared.events.envelope import aware, utcnow

from ..documents import DetailsAccess, FileStep, HardshipFile, Objection
from ..domain import hardship
from ..published.hardship import (
    HARDSHIP_FILE_DECIDED,
    NOTICE_CLOSED,
    NOTICE_OPENED,
    OBJECTION_LODGED,
    file_decided,
    notice_closed,
    notice_opened,
    objection_lodged,
)
from . import access, keys, policies, writes
from .context import Context, Found


def _step(ctx: Context, f: HardshipFile, action: str, note: str | None = None, replaced: str | None = None) -> dict:
    return {"history": [*f.history, FileStep(action=action, by=ctx.who.sub, by_org=ctx.who.org, at=utcnow(),
                                             note=note, details_encrypted=replaced)]}


def _write(f: HardshipFile, events, sets: dict, status: str, **conditions) -> None:
    if not writes.write(f, events, conditions={"status": status, **conditions}, sets=sets):
        raise in_state("status", "the file changed meanwhile; read it again")


def submit(ctx: Context, member_id: str | None, category: str, details: dict) -> HardshipFile:
    member = access.acting_member(ctx, member_id)
    if member.status != "active":
        raise in_state("member_id", "hardship files are kept for active members")
    refuse_unless(hardship.check_details, details["household_size"], details["income_per_head_fen"],
                  details["local_minimum_fen"], details["causes"])
    path = list(member.org_path)
    if not path:
        raise in_state("member_id", "the member belongs to no organisation")
    now = utcnow()
    f = HardshipFile(id=ObjectId(), member_id=str(member.pk), org_id=path[-1], org_path=path, category=category,
                     active_slot=str(member.pk), details_encrypted=keys.seal(ctx, details), submitted_by=ctx.who.sub,
                     submitted_at=now, history=[FileStep(action="submit", by=ctx.who.sub, by_org=ctx.who.org, at=now)])
    return versioned.insert(f, lambda: in_state("member_id", "the member already has a hardship file in progress or "
                                                             "filed", "Has a file."))


def read(ctx: Context, file_id: str) -> HardshipFile:
    """The member sees its own file's state (never its sealed details); staff of its branch or above."""
    return access.own_or_in_scope(ctx, HardshipFile, file_id, "file")


def _staff_read(ctx: Context, file_id: str) -> HardshipFile:
    f = read(ctx, file_id)
    if not access.sees(ctx, f.org_path):
        raise NotFound("file not found")
    return f


def listing(ctx: Context, status: str | None, due: bool) -> Found:
    """Staff: files of their organisation and below (``due``: filed ones past their review date). A member:
    its own."""
    rows = access.own_or_subtree(ctx, HardshipFile)
    if due:
        rows = rows.filter(status="filed", review_on__lte=utcnow().date())
    return Found(rows.filter(status=status) if status else rows, None)


def details(ctx: Context, file_id: str) -> dict:
    """The sealed details in clear, for admins bound to the file's branch or above (never an operator, who
    runs the platform and has no business with a household's circumstances); every read is recorded."""
    if not ctx.who.has("admin") or ctx.who.org is None:
        raise Forbidden("a household's details are for the staff of its branch or above")
    f = _staff_read(ctx, file_id)
    opened = {"details": keys.unseal(ctx, f.details_encrypted), "visit": keys.unseal(ctx, f.visit_encrypted),
              "history": [{"action": s.action, "at": s.at, "details": keys.unseal(ctx, s.details_encrypted)}
                          for s in f.history if s.details_encrypted]}
    DetailsAccess(file_id=f.pk, member_id=f.member_id, fields=["details", "visit", "history"], by=ctx.who.sub,
                  by_org=ctx.who.org, request_id=ctx.request_id, at=utcnow()).save()
    return opened


def details_reads(ctx: Context, file_id: str):
    if not ctx.who.has("admin") or ctx.who.org is None:
        raise Forbidden("a household's details are for the staff of its branch or above")
    return DetailsAccess.objects(file_id=_staff_read(ctx, file_id).pk)


def visit(ctx: Context, file_id: str, visited_by: str, visited_on: date, findings: str) -> HardshipFile:
    f = _staff_read(ctx, file_id)
    refuse_unless(hardship.check_transition, "visit", f.status)
    if visited_on > utcnow().date():
        raise in_state("visited_on", "a visit is recorded once it took place")
    sealed = keys.seal(ctx, {"visited_by": visited_by, "visited_on": visited_on.isoformat(), "findings": findings})
    _write(f, [], {"status": "visited", "visit_encrypted": sealed, "visited_at": utcnow(),
                   **_step(ctx, f, "visit")}, "submitted")
    return f


def open_notice(ctx: Context, file_id: str) -> HardshipFile:
    f = _staff_read(ctx, file_id)
    refuse_unless(hardship.check_transition, "open_notice", f.status)
    policy, _ = policies.effective(list(f.org_path))
    now = utcnow()
    _write(f, [(NOTICE_OPENED, notice_opened)],
           {"status": "in_notice", "notice_opens_at": now, "notice_closes_at": now + timedelta(days=policy.notice_days),
            **_step(ctx, f, "open_notice", f"{policy.notice_days} days")}, "visited")
    return f


def close_notice(ctx: Context | None, f: HardshipFile, now=None) -> bool:
    """The notice has run its days: the file waits for approval (the worker does this for every file; staff
    may do it for one). Guarded by the state, so an objection cannot slip in after it."""
    now = now or utcnow()
    refuse_unless(hardship.check_notice_over, aware(f.notice_closes_at), now)
    f.reload()  # the objection counters, which change without the version, as they are now
    by = ctx.who.sub if ctx else "gonghui.welfare"
    step = FileStep(action="close_notice", by=by, by_org=ctx.who.org if ctx else None, at=now)
    return versioned.write(f, [(NOTICE_CLOSED, lambda x: notice_closed(x, now))], conditions={"status": "in_notice"},
                           sets={"status": "noticed", "history": [*f.history, step]})


def close_notice_now(ctx: Context, file_id: str) -> HardshipFile:
    f = _staff_read(ctx, file_id)
    refuse_unless(hardship.check_transition, "close_notice", f.status)
    if not close_notice(ctx, f):
        raise in_state("status", "the file changed meanwhile; read it again")
    return f


QUIET = timedelta(minutes=2)  # far beyond any request's time limit


def recount_objections(now) -> int:
    """A process that died between raising a file's counter of open objections and writing the objection
    left the counter high, blocking approval for an objection nobody can resolve: once the notice has been
    closed for a quiet while (no objection can still be on its way), the counter becomes the number of
    objections still open, guarded by the value read."""
    fixed = 0
    for raw in HardshipFile._get_collection().find(
            {"status": "noticed", "open_objections": {"$gt": 0}, "notice_closes_at": {"$lt": now - QUIET}},
            {"open_objections": 1}):
        still_open = Objection.objects(file_id=raw["_id"], status="open").count()
        if still_open < raw["open_objections"]:
            fixed += HardshipFile._get_collection().update_one(
                {"_id": raw["_id"], "open_objections": raw["open_objections"]},
                {"$set": {"open_objections": still_open}}).modified_count
    return fixed


def close_notices(_settings=None, now=None) -> int:
    """The worker's job: close every notice that has run its days (and repair counters of objections)."""
    closed, now = 0, now or utcnow()
    recount_objections(now)
    for f in HardshipFile.objects(status="in_notice", notice_closes_at__lte=now):
        for _ in range(3):
            if close_notice(None, f, now):
                closed += 1
                break
            f.reload()
            if f.status != "in_notice":
                break
    return closed


def lodge_objection(ctx: Context, file_id: str, text: str) -> Objection:
    """A member of the same union (the file's branch), during the notice. The file's counter of open
    objections is raised first, by a write conditional on the notice still running; the objection is
    written after it (a process dying in between leaves the counter high: approval waits for staff)."""
    me = access.me(ctx)
    f = HardshipFile.objects(pk=access.object_id(file_id, "file")).first()
    if me is None or f is None or (list(me.org_path) or [None])[-1] != f.org_id:
        raise NotFound("file not found")
    if me.status != "active":
        raise in_state("member_id", "objections are lodged by active members")
    if str(me.pk) == f.member_id:
        raise in_state("member_id", "a member does not object to its own file")
    now = utcnow()
    refuse_unless(hardship.check_objection_window, f.status, aware(f.notice_closes_at) if f.notice_closes_at else None,
                  now)
    raised = HardshipFile._get_collection().find_one_and_update(
        {"_id": f.pk, "status": "in_notice", "notice_closes_at": {"$gt": now}},
        {"$inc": {"open_objections": 1, "objections": 1}}, return_document=ReturnDocument.AFTER)
    if raised is None:
        raise in_state("file_id", "the public notice has ended")
    objection = Objection(id=ObjectId(), file_id=f.pk, org_path=list(f.org_path), by_member=str(me.pk),
                          text_encrypted=keys.seal(ctx, {"text": text}), lodged_at=now)
    objection.record(OBJECTION_LODGED, objection_lodged(objection, f))
    objection.save(force_insert=True)
    return objection


def objections(ctx: Context, file_id: str) -> Found:
    f = _staff_read(ctx, file_id)
    access.require_staff(ctx)
    return Found(Objection.objects(file_id=f.pk), None)


def read_objection(ctx: Context, objection_id: str) -> Objection:
    """Staff in scope (with its text), or the member who lodged it."""
    found = Objection.objects(pk=access.object_id(objection_id, "objection")).first()
    if found is None or not (ctx.who.acts_as_member(found.by_member) or access.sees(ctx, found.org_path)):
        raise NotFound("objection not found")
    return found


def objection_text(ctx: Context, objection: Objection) -> str | None:
    if not access.sees(ctx, objection.org_path) and not ctx.who.acts_as_member(objection.by_member):
        return None
    return keys.unseal(ctx, objection.text_encrypted)["text"]


def resolve_objection(ctx: Context, objection_id: str, upheld: bool, resolution: str) -> Objection:
    """Staff of the file's branch or above resolve an objection (upheld or dismissed, with what was found);
    the file's counter of open objections comes down in the same request."""
    objection = read_objection(ctx, objection_id)
    if not access.sees(ctx, objection.org_path):
        raise NotFound("objection not found")
    if objection.status != "open":
        raise in_state("status", f"the objection was already resolved ({objection.status})")
    if not writes.write(objection, [], conditions={"status": "open"},
                           sets={"status": "upheld" if upheld else "dismissed", "resolution": resolution,
                                 "resolved_by": ctx.who.sub, "resolved_at": utcnow()}):
        raise in_state("status", "the objection was resolved meanwhile")
    HardshipFile._get_collection().update_one({"_id": objection.file_id, "open_objections": {"$gt": 0}},
                                              {"$inc": {"open_objections": -1}})
    return objection


def approve(ctx: Context, file_id: str, review_on: date | None, note: str | None) -> HardshipFile:
    """The level above the branch files it, once the notice is over and no objection is unresolved."""
    f = _staff_read(ctx, file_id)
    if not access.above(ctx, list(f.org_path)):
        raise Forbidden("a hardship file is approved by the level above the branch")
    refuse_unless(hardship.check_transition, "approve", f.status)
    still_open = Objection.objects(file_id=f.pk, status="open").count()  # the counter is the guard, these the truth
    refuse_unless(hardship.check_no_open_objection, max(f.open_objections or 0, still_open))
    today = utcnow().date()
    review_on = review_on or today + hardship.REVIEW_AFTER
    refuse_unless(hardship.check_review_date, review_on, today)
    _write(f, [(HARDSHIP_FILE_DECIDED, file_decided("approved"))],
           {"status": "filed", "review_on": review_on, "filed_at": utcnow(), **_step(ctx, f, "approve", note)},
           "noticed", open_objections=0)  # guarded: an objection still open refuses the write
    return f


def reject(ctx: Context, file_id: str, reason: str) -> HardshipFile:
    """Staff of the branch or above reject a file before its notice; after the notice, the level above."""
    f = _staff_read(ctx, file_id)
    refuse_unless(hardship.check_transition, "reject", f.status)
    if f.status == "noticed" and not access.above(ctx, list(f.org_path)):
        raise Forbidden("after the public notice, the level above the branch decides")
    _write(f, [(HARDSHIP_FILE_DECIDED, file_decided("rejected"))],
           {"status": "rejected", "rejection_reason": reason, "active_slot": str(f.pk),
            **_step(ctx, f, "reject", reason)}, f.status)
    return f


def recheck(ctx: Context, file_id: str, outcome: str, review_on: date | None, details: dict | None,
            category: str | None, note: str | None) -> HardshipFile:
    """Renew (a new review date, and the household's details as found now, the old ones kept in the
    history) or close (解困脱困: the household has recovered)."""
    f = _staff_read(ctx, file_id)
    refuse_unless(hardship.check_transition, "recheck", f.status)
    today = utcnow().date()
    if outcome == "close":
        _write(f, [(HARDSHIP_FILE_DECIDED, file_decided("closed"))],
               {"status": "closed", "closed_at": utcnow(), "active_slot": str(f.pk), **_step(ctx, f, "close", note)},
               "filed")
        return f
    review_on = review_on or today + hardship.REVIEW_AFTER
    refuse_unless(hardship.check_review_date, review_on, today)
    sets = {"review_on": review_on}
    replaced = None
    if details is not None:
        refuse_unless(hardship.check_details, details["household_size"], details["income_per_head_fen"],
                      details["local_minimum_fen"], details["causes"])
        sets["details_encrypted"], replaced = keys.seal(ctx, details), f.details_encrypted
    if category:
        sets["category"] = category
    _write(f, [(HARDSHIP_FILE_DECIDED, file_decided("renewed"))],
           {**sets, **_step(ctx, f, "renew", note, replaced)}, "filed")
    return f
