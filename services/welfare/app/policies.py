"""Per-organisation policy: the branch approval limit, yearly caps per kind and member, the length of a
public notice; the schedule of life-event amounts; the mutual medical aid scheme (rate, deductible, cap,
contribution). An organisation's policy holds for it and everything below that has none of its own; it
is set by staff above the organisation (a branch does not raise its own limit)."""
from __future__ import annotations

from shared.errors import Forbidden, refuse_unless
from shared.events.envelope import utcnow

from ..documents import LifeEventSchedule, MutualAidScheme, Policy
from ..domain import assistance, condolences, mutual_aid
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


def _nearest(document, path: list[str]):
    found = {p.pk: p for p in document.objects(pk__in=list(path))}
    for org_id in reversed(path):
        if org_id in found:
            return found[org_id]
    return None


def life_event_schedule(path: list[str]) -> tuple[condolences.Schedule, str | None]:
    """The schedule of amounts of the nearest organisation on ``path`` that set one (else the defaults)."""
    found = _nearest(LifeEventSchedule, path)
    if found is None:
        return condolences.Schedule(), None
    return condolences.Schedule({**condolences.DEFAULT_SCHEDULE, **(found.amounts or {})}), found.pk


def mutual_aid_scheme(path: list[str]) -> tuple[mutual_aid.Scheme, str | None]:
    """The mutual aid scheme covering ``path``: the nearest organisation's that runs one (None: none does)."""
    found = _nearest(MutualAidScheme, path)
    if found is None:
        return mutual_aid.Scheme(), None
    return mutual_aid.Scheme(found.rate_percent, found.deductible_fen, found.cap_fen, found.contribution_fen), found.pk


def _set_by_above(ctx: Context, org_id: str):
    view = access.staff_org(ctx, org_id)
    if not access.above(ctx, list(view.path)) and not (ctx.who.has("operator") and ctx.who.org is None):
        raise Forbidden("an organisation's policy is set by the level above it")
    return view


def read_schedule(ctx: Context, org_id: str):
    return life_event_schedule(list(access.staff_org(ctx, org_id).path))


def put_schedule(ctx: Context, org_id: str, amounts: dict[str, int]):
    view = _set_by_above(ctx, org_id)
    LifeEventSchedule.objects(pk=org_id).update_one(upsert=True, set__amounts=amounts, set__updated_by=ctx.who.sub,
                                                    set__updated_at=utcnow())
    return life_event_schedule(list(view.path))


def read_scheme(ctx: Context, org_id: str):
    return mutual_aid_scheme(list(access.staff_org(ctx, org_id).path))


def put_scheme(ctx: Context, org_id: str, scheme: mutual_aid.Scheme):
    """Staff of the organisation (or above) run a mutual aid scheme for the members below it: it holds
    their contributions and pays their claims from its mutual_aid budget."""
    view = access.staff_org(ctx, org_id)
    refuse_unless(mutual_aid.check_scheme, scheme)
    MutualAidScheme.objects(pk=org_id).update_one(
        upsert=True, set__rate_percent=scheme.rate_percent, set__deductible_fen=scheme.deductible_fen,
        set__cap_fen=scheme.cap_fen, set__contribution_fen=scheme.contribution_fen, set__updated_by=ctx.who.sub,
        set__updated_at=utcnow())
    return mutual_aid_scheme(list(view.path))
