"""Keeping materialised paths true after a subtree moves.

The moved organisation's own document changes atomically (with its event);
everything below follows by _id, idempotently. If a process dies half way,
``repair_paths`` (run by the worker) finishes the job from the tree itself.
"""
from __future__ import annotations

from pymongo import UpdateOne

from . import domain
from .documents import Member, Organisation


def follow_move(old_path: list[str], new_path: list[str]) -> int:
    moved = old_path[-1]
    changed = 0
    org_updates = [UpdateOne({"_id": raw["_id"]}, {"$set": {"path": domain.moved_path(raw["path"], old_path, new_path)}})
                   for raw in Organisation._get_collection().find({"path": moved}, {"path": 1})
                   if raw["path"][: len(old_path)] == old_path]
    if org_updates:
        changed += Organisation._get_collection().bulk_write(org_updates, ordered=False).modified_count
    member_updates = [UpdateOne({"_id": raw["_id"]},
                                {"$set": {"org_path": domain.moved_path(raw["org_path"], old_path, new_path)}})
                      for raw in Member._get_collection().find({"org_path": moved}, {"org_path": 1})
                      if raw["org_path"][: len(old_path)] == old_path]
    if member_updates:
        changed += Member._get_collection().bulk_write(member_updates, ordered=False).modified_count
    return changed


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
    member_fixes = [UpdateOne({"_id": raw["_id"]}, {"$set": {"org_path": paths[raw["org_id"]]}})
                    for raw in Member._get_collection().find({}, {"org_id": 1, "org_path": 1})
                    if raw.get("org_id") in paths and raw.get("org_path") != paths[raw["org_id"]]]
    for collection, fixes in ((Organisation._get_collection(), org_fixes), (Member._get_collection(), member_fixes)):
        if fixes:
            collection.bulk_write(fixes, ordered=False)
    return len(org_fixes) + len(member_fixes)
