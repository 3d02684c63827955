"""Scope by the current tree: copies of organisation paths on stored objects may lag behind a move
(the worker brings them up to date), so every check resolves a copy's current path first, once per
request for each organisation."""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

from flask import current_app, g

from shared.iterables import chunked
from shared.web import ApiError, current_caller

from ..tree import PathResolver


def resolver() -> PathResolver:
    if "path_resolver" not in g:
        cache = current_app.extensions["gonghui.tree_cache"]  # one per app, i.e. per gunicorn worker
        cache.refresh()  # one query: is what this process knows of the tree still the tree?
        g.path_resolver = PathResolver(cache)
    return g.path_resolver


def current_path(path) -> list[str]:
    return resolver().current(path) or []


def sees(caller, path) -> bool:
    """True when the caller's organisation is on the current path of this copy."""
    if caller.has("operator"):
        return True
    return caller.org is not None and resolver().within(path, caller.org)


def within(org_id: str, *paths_of: Callable) -> Callable[[list], list]:
    """For a list page: keep the rows at least one of whose paths is, in the current tree, below
    ``org_id`` (rows whose copy is stale may have left the subtree)."""
    def keep(rows: Iterable) -> list:
        rows = list(rows)
        resolver().prefetch(path_of(row) for row in rows for path_of in paths_of)
        return [row for row in rows if any(resolver().within(path_of(row), org_id) for path_of in paths_of)]
    return keep


def stream_within(org_id: str, path_of: Callable, rows: Iterable, chunk: int = 1000) -> Iterator:
    """``within`` for a stream of rows too many to hold at once (a report over a subtree)."""
    keep = within(org_id, path_of)
    for batch in chunked(rows, chunk):
        yield from keep(batch)


def caller():
    """The authenticated caller, refused when the organisation its token is bound to is closed or gone."""
    who = current_caller(current_app.extensions["gonghui.settings"])
    if who.org is not None and not g.get("bound_org_checked"):
        if resolver().status(who.org) != "active":
            raise ApiError(401, "the organisation this token is bound to is closed or does not exist")
        g.bound_org_checked = True
    return who
