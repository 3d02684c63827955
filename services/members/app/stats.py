"""Membership statistics for a subtree, as the worker last counted them (services/members/stats.py)."""
from __future__ import annotations

from shared.events.envelope import utcnow

from .. import stats
from ..reviews import current_month
from . import access
from .context import Context


def subtree(ctx: Context, org_id: str | None, first: str | None, last: str | None) -> dict:
    """Members by status, gender, employment type and age band in a subtree (the caller's own by
    default), joins, leaves and transfers in the months between ``first`` and ``last`` whichever is
    given first (default: this year to date; a ``first`` alone runs to this month, or is the period
    itself if it lies ahead), and the join rate (staff)."""
    org = access.subtree_root(ctx, org_id)
    last = last or max(current_month(), first or "")
    first = first or f"{last[:4]}-01"
    first, last = min(first, last), max(first, last)
    return stats.subtree(org, first, last, utcnow().date())
