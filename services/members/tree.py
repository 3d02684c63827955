"""Keeping materialised paths true after a subtree moves.

The moved organisation's own document changes atomically (with its event);
everything below follows by _id, idempotently. If a process dies half way,
``repair_paths`` (run by the worker) finishes the job from the tree itself.
"""
from __future__ import annotations

from pymongo import UpdateOne

from shared.events.envelope import utcnow

from . import domain
from .documents import HistoryEntry, Member, Organisation
from .published import MEMBER_UPDATED, member_updated


def follow_move(old_path: list[str], new_path: list[str]) -> int:
    moved = old_path[-1]
    changed = 0
    org_updates = [UpdateOne({"_id": raw["_id"]}, {"$set": {"path": domain.moved_path(raw["path"], old_path, new_path)}})
                   for raw in Organisation._get_collection().find({"path": moved}, {"path": 1})
                   if raw["path"][: len(old_path)] == old_path]
    if org_updates:
        changed += Organisation._get_collection().bulk_write(org_updates, ordered=False).modified_count
    for raw in Member._get_collection().find({"org_path": moved}, {"_id": 1}):
        changed += _move_member(raw["_id"], old_path, new_path)
    return changed


def _move_member(member_id, old_path: list[str], new_path: list[str], attempts: int = 5) -> int:
    """Give one member its new path as a versioned change with a member.updated
    event: read models converge on the newest version whatever order the
    organisation's and the member's events arrive in."""
    for _ in range(attempts):
        member = Member.objects(pk=member_id).first()
        if member is None or member.org_path[: len(old_path)] != old_path:
            return 0
        member.org_path = domain.moved_path(list(member.org_path), old_path, new_path)
        member.version += 1
        if Member.update_with_event(member.pk, MEMBER_UPDATED, member_updated(member, ["org_path"]),
                                    conditions={"version": member.version - 1}, set__org_path=member.org_path,
                                    set__version=member.version):
            return 1
    raise RuntimeError(f"member {member_id} kept changing while its organisation moved")


def repair_paths() -> int:
    """Make every organisation's path its parent's path plus itself, and every
    member's org_path its organisation's path. Scans; the worker runs it rarely."""
    orgs = {str(raw["_id"]): raw for raw in Organisation._get_collection().find({}, {"path": 1, "parent_id": 1})}

    def true_path(org_id: str, seen: tuple = ()) -> list[str]:
        parent = orgs[org_id].get("parent_id")
        if not parent or parent not in orgs or parent in seen:
            return [org_id]
        return [*true_path(parent, (*seen, org_id)), org_id]

    paths = {org_id: true_path(org_id) for org_id in orgs}
    org_fixes = [UpdateOne({"_id": raw["_id"]}, {"$set": {"path": paths[org_id]}})
                 for org_id, raw in orgs.items() if raw.get("path") != paths[org_id]]
    if org_fixes:
        Organisation._get_collection().bulk_write(org_fixes, ordered=False)
    fixed = len(org_fixes)
    for raw in Member._get_collection().find({}, {"org_id": 1, "org_path": 1}):
        if raw.get("org_id") in paths and raw.get("org_path") != paths[raw["org_id"]]:
            fixed += _move_member(raw["_id"], raw["org_path"], paths[raw["org_id"]])
    return fixed


def move_member_to(member_id, org: Organisation, by: str, action: str, attempts: int = 5) -> None:
    """Give a member a new organisation, versioned, with history and a member.updated event."""
    for _ in range(attempts):
        member = Member.objects(pk=member_id).first()
        member.org_id, member.org_path = str(org.pk), list(org.path)
        member.version += 1
        entry = HistoryEntry(at=utcnow(), action=action, by=by, from_status=member.status, to_status=member.status,
                             org_id=member.org_id, changed=["org_id", "org_path"])
        if Member.update_with_event(member.pk, MEMBER_UPDATED, member_updated(member, ["org_id", "org_path"]),
                                    conditions={"version": member.version - 1}, set__org_id=member.org_id,
                                    set__org_path=member.org_path, set__version=member.version,
                                    push__history=entry):
            return
    raise RuntimeError(f"member {member_id} kept changing")
