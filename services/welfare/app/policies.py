"""Per-organisation policy: the branch approval limit, yearly caps per kind and member, the length of a
public notice. An organisation's policy holds for it and everything below that has none of its own; it
is set by staff above the organisation (a branch does not raise its own limit)."""
from __future__ import annotations

from shared.errors import Forbidden
from shared.events.envelope import utcnow

from ..documents import Policy
from ..domain import assistance
from ..domain.assistance import DEFAULT_CAPS
from . import access
from .context import Context


def effective(path: list[str]) -> tuple[assistance.Policy, str | None]:
    """The policy of the nearest organisation on ``path`` (itself first) that set one, and its id."""
    found = {p.pk: p for p in Policy.objects(pk__in=list(path))}
    for org_id in reversed(path):
        if org_id in found:
            p = found[org_id]
            return assistance.Policy(p.branch_limit_fen, {**DEFAULT_CAPS, **(p.caps or {})}, p.notice_days), org_id
    return assistance.Policy(), None


def read(ctx: Context, org_id: str) -> tuple[assistance.Policy, str | None]:
    view = access.staff_org(ctx, org_id)
    return effective(list(view.path))


def put(ctx: Context, org_id: str, branch_limit_fen: int, caps: dict[str, int], notice_days: int):
    view = access.staff_org(ctx, org_id)
    if not access.above(ctx, list(view.path)):
        raise Forbidden("an organisation's policy is set by the level above it")
    Policy.objects(pk=org_id).update_one(upsert=True, set__branch_limit_fen=branch_limit_fen, set__caps=caps,
                                         set__notice_days=notice_days, set__updated_by=ctx.who.sub,
                                         set__updated_at=utcnow())
    return effective(list(view.path))
