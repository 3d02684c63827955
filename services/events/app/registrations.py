"""Registration (报名), the waitlist (候补) and check-in (签到).

A member registers itself, or staff register a member of their scope; only eligible members, inside
the registration window, once per activity. Beyond capacity a registration waits; whenever a place
comes free the first waiting one is promoted in the same request (``places.settle``)."""
from __future__ import annotations

from bson import ObjectId
from mongoengine.errors import NotUniqueError
from pymongo.errors import DuplicateKeyError

from shared import versioned
from shared.errors import Conflict, NotFound, Refused, in_state, refuse_unless
from shared.events.envelope import utcnow

from .. import domain
from ..documents import Activity, Registration
from ..published.activities import (
    ATTENDANCE_RECORDED,
    AWARD_GRANTED,
    REGISTRATION_CANCELLED,
    REGISTRATION_CONFIRMED,
    REGISTRATION_WAITLISTED,
    attendance_recorded,
    award_granted,
    registration_data,
)
from . import access, activities, places, seats
from .context import Context, Found


def register(ctx: Context, activity_id: str, member_id: str | None) -> Registration:
    activity = activities.read(ctx, activity_id)
    member = access.acting_member(ctx, member_id)
    by = "member" if ctx.who.acts_as_member(str(member.pk)) else "staff"
    refuse_unless(domain.check_registration_open, activity.status, activities.schedule(activity), utcnow())
    refuse_unless(domain.check_eligible, activities.eligible(member), activities.audience(activity))
    existing = Registration.objects(activity_id=activity.pk, member_id=str(member.pk)).first()
    if existing is not None:
        if existing.status in domain.HOLDS_A_PLACE:
            raise in_state("member_id", f"the member is already registered ({existing.status})", "Registered.")
        if existing.status == "removed" and by == "member":
            raise in_state("member_id", "the organiser removed this registration; ask the organiser", "Removed.")
    status, counts = "confirmed", seats.take(activity, {"status": "published", **seats.NEW_PLACE}, confirmed=1,
                                             ticket=True)
    if counts is None:
        status, counts = "waitlisted", seats.take(activity, {"status": "published"}, waiting=1, ticket=True)
    if counts is None:
        raise in_state("activity_id", "the activity does not take registrations now")
    taken = {"confirmed": 1} if status == "confirmed" else {"waiting": 1}
    event = REGISTRATION_CONFIRMED if status == "confirmed" else REGISTRATION_WAITLISTED
    fields = {"status": status, "ticket": counts["tickets"], "registered_at": utcnow(), "registered_by": ctx.who.sub,
              "org_path": list(member.org_path), "cancelled_at": None, "cancelled_by": None, "promoted_at": None}
    try:
        if existing is not None:
            if not versioned.write(existing, [(event, lambda r: registration_data(r, activity, by))],
                                   conditions={"status": existing.status}, sets=fields):
                raise Conflict("the registration changed meanwhile; read it again")
            registration = existing
        else:
            registration = Registration(id=ObjectId(), activity_id=activity.pk, member_id=str(member.pk), **fields)
            registration.record(event, registration_data(registration, activity, by))
            registration.save(force_insert=True)
    except (NotUniqueError, DuplicateKeyError) as exc:
        seats.give_back(activity.pk, **taken)
        places.settle(activity)
        raise in_state("member_id", "the member is already registered", "Registered.") from exc
    except BaseException:
        seats.give_back(activity.pk, **taken)
        places.settle(activity)
        raise
    # always, even when no place was free as it took its ticket: a cancellation may have freed one
    # since, and looked for the first waiting before this registration was written
    if status == "waitlisted" and places.settle(activity):
        registration.reload()
    return registration


def read(ctx: Context, registration_id: str) -> Registration:
    """The member itself, or staff running the activity or holding the member's branch."""
    found = Registration.objects(pk=access.object_id(registration_id, "registration")).first()
    if found is None or not (ctx.who.acts_as_member(found.member_id) or access.sees(ctx, found.org_path)
                             or _runs(ctx, found.activity_id)):
        raise NotFound("registration not found")
    return found


def _runs(ctx: Context, activity_id) -> bool:
    activity = Activity.objects(pk=activity_id).only("org_path").first()
    return activity is not None and access.sees(ctx, activity.org_path)


def cancel(ctx: Context, registration_id: str) -> Registration:
    """The member cancels before the deadline; staff remove a registration until the activity ends.
    A place that comes free goes to the first on the waitlist, now."""
    registration = read(ctx, registration_id)
    activity = Activity.objects(pk=registration.activity_id).first()
    by_staff = not ctx.who.acts_as_member(registration.member_id)
    refuse_unless(domain.check_cancellation, registration.status, activity.status, activities.schedule(activity),
                  utcnow(), by_staff)
    was = registration.status
    given = {"confirmed": -1} if was == "confirmed" else {"waiting": -1}
    if seats.take(activity, {}, **given) is None:
        raise NotFound("activity not found")
    sets = {"status": "removed" if by_staff else "cancelled", "cancelled_at": utcnow(), "cancelled_by": ctx.who.sub}
    by = "staff" if by_staff else "member"
    if not versioned.write(registration, [(REGISTRATION_CANCELLED, lambda r: registration_data(r, activity, by))],
                           conditions={"status": was}, sets=sets):
        seats.give_back(activity.pk, **given)
        raise Conflict("the registration changed meanwhile; read it again")
    places.settle(activity)
    return registration


def of_activity(ctx: Context, activity_id: str, status: str | None) -> Found:
    """An activity's registrations, for staff running it (the waitlist in ticket order)."""
    activity = activities.managed(ctx, activity_id)
    rows = Registration.objects(activity_id=activity.pk)
    return Found(rows.filter(status=status) if status else rows, None)


def mine(ctx: Context) -> Found:
    """The caller's own registrations (a member token)."""
    if not ctx.who.has("member"):
        return Found(Registration.objects(pk=None), None)
    return Found(Registration.objects(member_id=ctx.who.sub), None)


def check_in_with_code(ctx: Context, activity_id: str, code: str) -> Registration:
    """A member checks itself in with the code shown at the venue. Wrong codes are counted: after a
    few, only staff can check the registration in (the code cannot be found by trying)."""
    activity = activities.read(ctx, activity_id)
    registration = Registration.objects(activity_id=activity.pk, member_id=ctx.who.sub).first()
    if registration is None or not ctx.who.has("member"):
        raise NotFound("registration not found")
    _check(activity, registration)
    if registration.checkin_failures >= domain.CHECK_IN_FAILURES_ALLOWED:
        raise in_state("code", "too many wrong codes; ask the staff at the venue to check you in", "Locked.")
    if not activities.code_matches(activity, code):
        Registration.objects(pk=registration.pk).update_one(inc__checkin_failures=1)
        raise Refused.on("code", "the check-in code is wrong or has expired", "Wrong code.")
    return _checked_in(activity, registration, "code")


def check_in_by_staff(ctx: Context, registration_id: str) -> Registration:
    registration = read(ctx, registration_id)
    activity = activities.managed(ctx, str(registration.activity_id))
    _check(activity, registration)
    return _checked_in(activity, registration, ctx.who.sub)


def _check(activity: Activity, registration: Registration) -> None:
    refuse_unless(domain.check_check_in, registration.status, registration.checked_in_at is not None,
                  activity.status, activities.schedule(activity), utcnow())


def _checked_in(activity: Activity, registration: Registration, by: str) -> Registration:
    """Once: the write is guarded by 'not checked in yet'; it publishes attendance.recorded."""
    sets = {"checked_in_at": utcnow(), "checked_in_by": by, "no_show": False}
    if not versioned.write(registration, [(ATTENDANCE_RECORDED, attendance_recorded)],
                           conditions={"status": "confirmed", "checked_in_at": None}, sets=sets):
        raise in_state("status", "already checked in, or the registration changed", "Checked in.")
    return registration


def record_results(ctx: Context, activity_id: str, items: list[dict]) -> list[Registration]:
    """Scores, ranks and awards of a competition's confirmed registrants. An award (new or changed)
    publishes award.granted; the members service adds the honour it confers to the member."""
    activity = activities.managed(ctx, activity_id)
    refuse_unless(domain.check_results, activity.kind, activity.status)
    ids = [access.object_id(item["registration_id"], "registration") for item in items]
    found = {r.pk: r for r in Registration.objects(pk__in=ids, activity_id=activity.pk)}
    for index, pk in enumerate(ids):
        registration = found.get(pk)
        if registration is None or registration.status != "confirmed":
            raise Refused.on(f"items.{index}.registration_id", "not a confirmed registration of this activity")
    recorded = []
    for pk, item in zip(ids, items, strict=True):
        recorded.append(versioned.retried(
            lambda pk=pk, item=item: _result(activity, Registration.objects(pk=pk).first(), item), "registration"))
    return recorded


def _result(activity: Activity, registration: Registration, item: dict) -> Registration | None:
    sets = {key: item.get(key) for key in ("score", "rank", "award", "honour")}
    granted = bool(sets["award"]) and (sets["award"], sets["honour"]) != (registration.award, registration.honour)
    if granted:
        sets["awarded_at"] = utcnow()
    events = [(AWARD_GRANTED, lambda r: award_granted(r, activity))] if granted else []
    return registration if versioned.write(registration, events, sets=sets) else None
