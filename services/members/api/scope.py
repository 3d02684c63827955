"""The use cases' Context for this request, built once: the caller (refused when the organisation its
token is bound to is closed or gone), the tree as it is now, and the keys."""
from __future__ import annotations

from flask import current_app, g

from shared.errors import Unauthenticated
from shared.web import current_caller

from ..app.context import Context
from ..tree import PathResolver


def resolver() -> PathResolver:
    if "path_resolver" not in g:
        cache = current_app.extensions["gonghui.tree_cache"]  # one per app, i.e. per gunicorn worker
        cache.refresh()  # one query: is what this process knows of the tree still the tree?
        g.path_resolver = PathResolver(cache)
    return g.path_resolver


def context() -> Context:
    if "app_context" not in g:
        who = current_caller(current_app.extensions["gonghui.settings"])
        if who.org is not None and resolver().status(who.org) != "active":
            raise Unauthenticated("the organisation this token is bound to is closed or does not exist")
        extensions = current_app.extensions
        g.app_context = Context(who=who, tree=resolver(), vault=extensions["gonghui.vault"],
                                contact_seal=extensions["gonghui.contact_seal"],
                                settings=extensions["gonghui.settings"], request_id=g.get("request_id"),
                                exhausted=extensions.setdefault("gonghui.refusals_exhausted", set()),
                                card_numbers=extensions["gonghui.card_numbers"])
    return g.app_context
