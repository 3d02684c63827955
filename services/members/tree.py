"""Keeping copies of organisation paths true after a subtree moves.

A move changes the moved organisation's own path atomically (with its event) and records an
``OrgMove``; the worker then brings every copy of a path below it up to date (``follow_moves``),
resuming where it stood after a crash. Until it has, nothing trusts a copy for scope:
``PathResolver`` gives any copy's current path from the organisations' own records.
"""
from __future__ import annotations

import logging

from bson import ObjectId
from pymongo import UpdateOne

from shared import versioned
from shared.events.envelope import utcnow
from shared.iterables import chunked

from .documents import DuesAccount, HistoryEntry, ImportJob, Member, Organisation, OrgMove, OrgStats, Review, Transfer
from .published import MEMBER_UPDATED, member_updated

log = logging.getLogger(__name__)

MAX_DEPTH = 32  # organisation trees are a handful of levels deep; this only guards against a cycle
BATCH = 500


TREE_STATE = "tree_state"


class TreeCache:
    """Organisations' parent links, statuses, kinds and names as one process last read them, valid while
    the tree's version is unchanged: every move, close and rename bumps it after its write (a kind never
    changes), and a request reads it once (one query) before trusting anything cached. For web
    processes; jobs read afresh."""

    def __init__(self):
        self.version = None
        self._clear()

    def _clear(self) -> None:
        self.parent: dict[str, str | None] = {}
        self.status: dict[str, str] = {}
        self.facts: dict[str, tuple[str, str, list[str]]] = {}  # kind, name, and the stored path (a hint)
        self.absent: set[str] = set()

    def refresh(self) -> None:
        state = Organisation._get_collection().database[TREE_STATE].find_one({"_id": "tree"}) or {}
        version = state.get("version", 0)
        if version != self.version:
            self.version = version
            self._clear()


def bump_tree_version() -> None:
    """After a move or a close has been written: caches read before it are dropped by their next request."""
    Organisation._get_collection().database[TREE_STATE].update_one({"_id": "tree"}, {"$inc": {"version": 1}},
                                                                    upsert=True)


class PathResolver:
    """Current paths of copied paths, from the organisations' ``parent_id`` links (a move changes the
    moved organisation's link atomically; no other organisation's link changes), reading each
    organisation at most once: one resolver per request (over the process's ``TreeCache``) or per
    batch of a job."""

    def __init__(self, cache: TreeCache | None = None):
        cache = cache or TreeCache()
        self._parent, self._status, self._facts, self._absent = cache.parent, cache.status, cache.facts, cache.absent
        self._paths: dict[str, list[str] | None] = {}

    def prefetch(self, paths) -> None:
        self._fetch({org_id for path in paths for org_id in path})

    def _fetch(self, ids) -> None:
        wanted = {i for i in ids if i not in self._parent and i not in self._absent}
        if not wanted:
            return
        object_ids = [ObjectId(i) for i in wanted if ObjectId.is_valid(i)]
        fields = {"parent_id": 1, "status": 1, "kind": 1, "name": 1, "path": 1}
        for raw in Organisation._get_collection().find({"_id": {"$in": object_ids}}, fields):
            self._parent[str(raw["_id"])] = raw.get("parent_id") or None
            self._status[str(raw["_id"])] = raw.get("status")
            self._facts[str(raw["_id"])] = (raw.get("kind"), raw.get("name"), raw.get("path") or [])
        self._absent |= wanted - set(self._parent)

    def status(self, org_id: str) -> str | None:
        """The organisation's status, or None if it does not exist."""
        self._fetch([org_id])
        return self._status.get(org_id)

    def organisation(self, org_id: str) -> Organisation | None:
        """The organisation as the tree is now, with the fields the tree's version covers (kind, name,
        status, parent and path), without a query when this process has read them since the version
        changed; None if it does not exist. Read-only: not for saving."""
        self._fetch([org_id])
        if org_id in self._absent:
            return None
        kind, name, stored_path = self._facts[org_id]
        path = self.current(stored_path if stored_path[-1:] == [org_id] else [org_id])  # its ancestors: one query
        if path is None:
            return None
        return Organisation(id=ObjectId(org_id), kind=kind, name=name, status=self._status[org_id],
                            parent_id=self._parent[org_id], path=path)

    def current(self, path) -> list[str] | None:
        """The path of a copy's organisation (its last element) as the tree is now, or None if an
        organisation on the way up no longer exists."""
        if not path:
            return None
        org_id = path[-1]
        if org_id not in self._paths:
            self._paths[org_id] = self._walk_up(org_id, path)
        found = self._paths[org_id]
        return list(found) if found is not None else None

    def _walk_up(self, org_id: str, hint) -> list[str] | None:
        self._fetch(hint)  # the copy usually names every ancestor: one query
        chain, node = [], org_id
        for _ in range(MAX_DEPTH):
            self._fetch([node])
            if node in self._absent:
                return None
            chain.append(node)
            node = self._parent[node]
            if node is None:
                return chain[::-1]
        return None

    def within(self, path, org_id: str) -> bool:
        return org_id in (self.current(path) or [])


def start_move(org_id: str, old_path: list[str], new_path: list[str], by: str) -> OrgMove:
    """Record the move (before the organisation's own write: a move recorded for a write that then did
    not happen only makes the worker confirm that every copy is already current)."""
    move = OrgMove(org_id=org_id, old_path=old_path, new_path=new_path, requested_by=by, requested_at=utcnow())
    move.save(force_insert=True)
    return move


def moves_following_within(org_id: str) -> bool:
    """True while a move into or out of this organisation's subtree is still being followed."""
    return any(org_id in move.old_path or org_id in move.new_path
               for move in OrgMove.objects(state="following").only("old_path", "new_path"))


def follow_moves() -> int:
    """Bring every copy below each organisation that moved up to date; returns the copies changed."""
    changed = 0
    for move in OrgMove.objects(state="following").order_by("id"):
        changed += follow(move)
    return changed


def follow(move: OrgMove) -> int:
    changed = 0
    for _ in range(3):  # a copy written from a stale path while the first pass ran is caught by the next
        found = _repath_all(move)
        changed += found
        if not found:
            break
    OrgMove.objects(pk=move.pk).update_one(set__state="done", set__finished_at=utcnow())
    log.info("move of %s followed: %d copies updated", move.org_id, changed)
    return changed


def _repath_all(move: OrgMove) -> int:
    org_id = move.org_id
    changed = _repath(move, "organisations", Organisation, "path", {"path": org_id})
    changed += _repath_members(move)
    for field in ("from_org_path", "to_org_path"):
        changed += _repath(move, "transfers", Transfer, field, {field: org_id})
    for name, document in (("dues_accounts", DuesAccount), ("reviews", Review), ("import_jobs", ImportJob)):
        changed += _repath(move, name, document, "org_path", {"org_path": org_id})
    changed += _repath(move, "org_stats", OrgStats, "path", {"path": org_id})
    return changed


def _batches(document, query: dict, field: str):
    return chunked(document._get_collection().find(query, {field: 1}).sort("_id", 1), BATCH)


def _repath(move: OrgMove, name: str, document, field: str, query: dict) -> int:
    """Plain copies (no events): set each to its current path, unless it changed meanwhile."""
    changed = 0
    for batch in _batches(document, query, field):
        resolver = PathResolver()
        resolver.prefetch(raw[field] for raw in batch)
        fixes = []
        for raw in batch:
            current = resolver.current(raw[field])
            if current is not None and current != raw[field]:
                fixes.append(UpdateOne({"_id": raw["_id"], field: raw[field]}, {"$set": {field: current}}))
        if fixes:
            modified = document._get_collection().bulk_write(fixes, ordered=False).modified_count
            _count(move, name, modified)
            changed += modified
    return changed


def _repath_members(move: OrgMove) -> int:
    """Members' paths change as versioned changes with a member.updated event: read models converge on
    the newest version whatever order the organisation's and the member's events arrive in."""
    changed = 0
    for batch in _batches(Member, {"org_path": move.org_id}, "org_path"):
        resolver = PathResolver()
        resolver.prefetch(raw["org_path"] for raw in batch)
        moved = sum(_repath_member(raw["_id"], resolver) for raw in batch
                    if resolver.current(raw["org_path"]) not in (None, raw["org_path"]))
        _count(move, "members", moved)
        changed += moved
    return changed


def _repath_member(member_id, resolver: PathResolver, attempts: int = 5) -> int:
    for _ in range(attempts):
        member = Member.objects(pk=member_id).first()
        current = resolver.current(member.org_path) if member else None
        if current is None or current == list(member.org_path):
            return 0
        if versioned.write(member, [(MEMBER_UPDATED, lambda m: member_updated(m, ["org_path"]))],
                           sets={"org_path": current}):
            return 1
    raise RuntimeError(f"member {member_id} kept changing while its organisation moved")


def _count(move: OrgMove, name: str, n: int) -> None:
    if n:
        OrgMove._get_collection().update_one({"_id": move.pk}, {"$inc": {f"updated.{name}": n}})


def move_member_to(member_id, org: Organisation, by: str, action: str, attempts: int = 5) -> None:
    """Give a member a new organisation, versioned, with history and a member.updated event."""
    for _ in range(attempts):
        member = Member.objects(pk=member_id).first()
        sets = {"org_id": str(org.pk), "org_path": PathResolver().current(org.path) or list(org.path)}
        entry = HistoryEntry(at=utcnow(), action=action, by=by, from_status=member.status, to_status=member.status,
                             org_id=sets["org_id"], changed=["org_id", "org_path"])
        if versioned.write(member, [(MEMBER_UPDATED, lambda m: member_updated(m, ["org_id", "org_path"]))],
                           sets=sets, push__history=entry):
            return
    raise RuntimeError(f"member {member_id} kept changing")
