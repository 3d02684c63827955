"""Activities (活动): staff of the organiser (or above) create and run them; members see the published
ones whose audience includes them."""
from __future__ import annotations

from datetime import datetime, timezone

import pyotp
from bson import ObjectId

from shared import versioned
from shared.errors import NotFound, Refused, refuse_unless
from shared.events.envelope import utcnow

from .. import domain
from ..documents import Activity, MemberView, Registration
from ..published.activities import ACTIVITY_CANCELLED, ACTIVITY_PUBLISHED, activity_cancelled, activity_data
from . import access, places
from .context import Context, Found

SCHEDULE = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at", "cancellation_deadline")
AUDIENCE = ("audience_org_id", "audience_genders", "audience_employment_types", "audience_honours")
CHECK_IN_CODE_DIGITS = 8
CHECK_IN_CODE_SECONDS = 60  # the code on the venue's screen changes every minute (the one before still counts)


def schedule(activity: Activity) -> domain.Schedule:
    return domain.Schedule(**{key: getattr(activity, key) for key in SCHEDULE})


def audience(activity: Activity) -> domain.Audience:
    return domain.Audience(activity.audience_org_id, tuple(activity.audience_genders),
                           tuple(activity.audience_employment_types), tuple(activity.audience_honours))


def eligible(member: MemberView) -> domain.Eligible:
    return domain.Eligible(status=member.status, kept=bool(member.kept), org_path=list(member.org_path),
                           gender=member.gender, employment_type=member.employment_type,
                           honours=list(member.honours or []))


def visible(ctx: Context, activity: Activity) -> bool:
    """Staff: what their organisation or one below organises, and any activity (not a draft) open to
    their organisation or to one of theirs. A member: what is published for an audience it is in."""
    if access.is_staff(ctx):
        if access.sees(ctx, activity.org_path):
            return True
        if activity.status == "draft":
            return False
        return (activity.audience_org_id in access.own_path(ctx)
                or access.sees(ctx, access.org_path(ctx, activity.audience_org_id)))
    if ctx.who.has("member") and activity.status != "draft":
        member = access.me(ctx)
        return member is not None and domain.outside_audience(eligible(member), audience(activity)) is None
    return False


def read(ctx: Context, activity_id: str) -> Activity:
    found = Activity.objects(pk=access.object_id(activity_id, "activity")).first()
    if found is None or not visible(ctx, found):
        raise NotFound("activity not found")
    return found


def managed(ctx: Context, activity_id: str) -> Activity:
    """An activity the caller runs: staff of its organiser or above."""
    found = read(ctx, activity_id)
    if not access.sees(ctx, found.org_path):
        raise NotFound("activity not found")  # seen as an audience, not run: nothing to change here
    return found


def create(ctx: Context, body: dict) -> Activity:
    """A draft activity organised by an organisation of the caller's scope, for an audience in it."""
    organiser = access.staff_org(ctx, body["organiser_id"], "organiser_id")
    audience_org = access.staff_org(ctx, body.get("audience", {}).get("org_id") or body["organiser_id"],
                                    "audience.org_id")
    now = utcnow()
    activity = Activity(id=ObjectId(), title=body["title"], kind=body["kind"], description=body.get("description"),
                        venue=body.get("venue"), organiser_id=str(organiser.pk), org_path=list(organiser.path),
                        capacity=body.get("capacity"), checkin_secret=pyotp.random_base32(),
                        created_by=ctx.who.sub, created_at=now, updated_at=now,
                        **_audience_fields(str(audience_org.pk), body.get("audience", {})),
                        **{key: body[key] for key in SCHEDULE if key in body})
    if activity.cancellation_deadline is None:
        activity.cancellation_deadline = activity.registration_closes_at
    activity.free = activity.capacity
    refuse_unless(domain.check_schedule, schedule(activity))
    refuse_unless(domain.check_capacity, activity.capacity)
    activity.save(force_insert=True)
    return activity


def _audience_fields(org_id: str, body: dict) -> dict:
    return {"audience_org_id": org_id, "audience_genders": body.get("genders", []),
            "audience_employment_types": body.get("employment_types", []),
            "audience_honours": body.get("honours", [])}


def listing(ctx: Context, status: str | None) -> Found:
    """Staff: the activities organised at or below their organisation. A member: the published (and
    later) activities whose audience includes it."""
    if access.is_staff(ctx):
        rows = Activity.objects if ctx.who.org is None else Activity.objects(org_path=ctx.who.org)
        return Found(rows.filter(status=status) if status else rows, None)
    member = access.me(ctx)
    if member is None:
        return Found(Activity.objects(pk=None), None)
    statuses = [status] if status and status != "draft" else [s for s in domain.ACTIVITY_STATUSES if s != "draft"]
    rows = Activity.objects(audience_org_id__in=list(member.org_path), status__in=statuses)
    return Found(rows, lambda page: [a for a in page if domain.outside_audience(eligible(member), audience(a)) is None])


def update(ctx: Context, activity_id: str, body: dict) -> Activity:
    """Change a draft freely; a published activity's audience, capacity and texts only. Lowering the
    capacity never removes anyone confirmed; raising it promotes from the waitlist at once."""
    def attempt():
        activity = managed(ctx, activity_id)
        sets = {key: body[key] for key in ("title", "description", "venue", "kind", *SCHEDULE) if key in body}
        changed = set(sets)
        if "audience" in body:
            org = access.staff_org(ctx, body["audience"].get("org_id") or activity.audience_org_id, "audience.org_id")
            sets.update(_audience_fields(str(org.pk), body["audience"]))
            changed.add("audience")
        conditions = {}
        if "capacity" in body:
            refuse_unless(domain.check_capacity, body["capacity"])
            sets["capacity"] = body["capacity"]
            sets["free"] = None if body["capacity"] is None else body["capacity"] - activity.confirmed
            conditions["confirmed"] = activity.confirmed  # free is computed from it
            changed.add("capacity")
        refuse_unless(domain.check_changeable, activity.status, changed)
        trial = Activity(**{**{k: getattr(activity, k) for k in SCHEDULE}, **{k: v for k, v in sets.items()
                                                                                if k in SCHEDULE}})
        refuse_unless(domain.check_schedule, schedule(trial))
        sets["updated_at"] = utcnow()
        counted = {"inc__changes": 1} if "capacity" in body else {}  # a recount must not overwrite free
        return activity if versioned.write(activity, [], conditions=conditions, sets=sets, **counted) else None
    activity = versioned.retried(attempt, "activity")
    if "capacity" in body and places.settle(activity):
        activity.reload()
    return activity


def transition(ctx: Context, activity_id: str, action: str, reason: str | None = None) -> Activity:
    """publish, close (registration), start, finish, cancel (with a reason)."""
    def attempt():
        activity = managed(ctx, activity_id)
        target = refuse_unless(domain.next_status, action, activity.status)
        sets = {"status": target, "updated_at": utcnow()}
        events = []
        if action == "publish":
            events = [(ACTIVITY_PUBLISHED, activity_data)]
        elif action == "cancel":
            if not reason:
                raise Refused.on("reason", "a cancellation gives its reason", "Missing data for required field.")
            sets["cancel_reason"] = reason
            if activity.status != "draft":
                events = [(ACTIVITY_CANCELLED, activity_cancelled)]
        elif action == "finish":
            sets["no_shows"] = Registration.objects(activity_id=activity.pk, status="confirmed",
                                                    checked_in_at=None).count()
        written = versioned.write(activity, events, conditions={"status": activity.status}, sets=sets)
        return activity if written else None
    activity = versioned.retried(attempt, "activity")
    if action == "finish":
        # confirmed members who never checked in; a late staff check-in clears the mark
        Registration.objects(activity_id=activity.pk, status="confirmed", checked_in_at=None).update(
            set__no_show=True)
    return activity


def check_in_code(ctx: Context, activity_id: str) -> dict:
    """The code to show at the venue now, for staff running the activity."""
    activity = managed(ctx, activity_id)
    totp = _totp(activity)
    now = utcnow()
    valid_from = now.timestamp() // CHECK_IN_CODE_SECONDS * CHECK_IN_CODE_SECONDS
    return {"code": totp.at(now),
            "valid_until": datetime.fromtimestamp(valid_from + CHECK_IN_CODE_SECONDS, timezone.utc)}


def code_matches(activity: Activity, code: str) -> bool:
    """The current code, or the one just before it (a member typing while it changes)."""
    return _totp(activity).verify(code, for_time=utcnow(), valid_window=1)


def _totp(activity: Activity) -> pyotp.TOTP:
    return pyotp.TOTP(activity.checkin_secret, digits=CHECK_IN_CODE_DIGITS, interval=CHECK_IN_CODE_SECONDS)
