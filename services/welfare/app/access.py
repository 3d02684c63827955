"""Who may see what: the scope every read-model service shares (``shared.readscope``), under the names
the use cases call, and what welfare adds: the level above a branch."""
from __future__ import annotations

from shared.errors import NotFound
from shared.readscope import *  # noqa: F403 (the use cases' names)
from shared.readscope import is_staff, sees


def above(ctx, path) -> bool:
    """Staff of a level above the organisation at the end of ``path`` (an operator bound to none counts)."""
    if ctx.who.has("operator") and ctx.who.org is None:
        return True
    return is_staff(ctx) and ctx.who.org is not None and ctx.who.org in (path or ())[:-1]


def staff_sees(ctx, path, what: str) -> None:
    """Staff whose scope holds ``path``; anyone else is told it does not exist."""
    if not sees(ctx, path):
        raise NotFound(f"{what} not found")
