"""Membership statistics for a subtree, as the worker last counted them (services/members/stats.py)."""
from __future__ import annotations

from shared.errors import Refused
from shared.events.envelope import utcnow

from .. import stats
from ..reviews import current_month
from . import access
from .context import Context


def subtree(ctx: Context, org_id: str | None, first: str | None, last: str | None) -> dict:
    """Members by status, gender, employment type and age band in a subtree (the caller's own by
    default), joins, leaves and transfers from month ``first`` to month ``last`` (default: this year
    to date), and the join rate (staff)."""
    org = access.subtree_root(ctx, org_id)
    last = last or current_month()
    first = first or f"{last[:4]}-01"
    if first > last:
        raise Refused("the period ends before it starts", {"from": ["After 'to'."]})
    return stats.subtree(org, first, last, utcnow().date())
