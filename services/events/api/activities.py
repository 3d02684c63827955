"""Activities (活动): create, change, run through their lifecycle; results of competitions."""
from __future__ import annotations

from datetime import datetime, timezone

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.fields import Text, WholeNumber
from shared.pagination import PageArgs, page, page_schema

from .. import domain
from ..app import activities, registrations
from ..documents import Activity
from .registrations import RegistrationSchema, registration_out
from .scope import context

blp = Blueprint("activities", __name__, url_prefix="/api/v1/activities", description="Activities (活动)")

OBJECT_ID = r"^[0-9a-f]{24}$"


# this century, whatever the offset (the documented pattern says the same to clients and fuzzers)
EARLIEST, LATEST = datetime(1999, 12, 31, tzinfo=timezone.utc), datetime(2100, 1, 2, tzinfo=timezone.utc)


def _moment(**kwargs):
    """A moment in ISO 8601 with an offset (a time without one is UTC), in the years 2000 to 2099."""
    metadata = {"pattern": "^20[0-9]{2}-", **kwargs.pop("metadata", {})}
    return fields.AwareDateTime(default_timezone=timezone.utc, validate=validate.Range(EARLIEST, LATEST),
                                metadata=metadata, **kwargs)


class AudienceSchema(Schema):
    org_id = fields.String(validate=validate.Regexp(OBJECT_ID),
                           metadata={"description": "the subtree whose members may register (default: the organiser)"})
    genders = fields.List(fields.String(validate=validate.OneOf(domain.GENDERS)), load_default=list,
                          validate=validate.Length(max=len(domain.GENDERS)))
    employment_types = fields.List(fields.String(validate=validate.OneOf(domain.EMPLOYMENT_TYPES)),
                                   load_default=list, validate=validate.Length(max=len(domain.EMPLOYMENT_TYPES)))
    honours = fields.List(fields.String(validate=validate.OneOf(domain.HONOURS)), load_default=list,
                          validate=validate.Length(max=len(domain.HONOURS)),
                          metadata={"description": "members holding any one of these honours"})


class ActivityChangeSchema(Schema):
    title = Text(validate=validate.Length(min=1, max=200))
    kind = fields.String(validate=validate.OneOf(domain.ACTIVITY_KINDS))
    description = Text(allow_none=True, validate=validate.Length(min=1, max=5000))
    venue = Text(allow_none=True, validate=validate.Length(min=1, max=200))
    audience = fields.Nested(AudienceSchema)
    capacity = WholeNumber(allow_none=True, validate=validate.Range(min=1, max=1_000_000),
                              metadata={"description": "null: no limit"})
    starts_at = _moment()
    ends_at = _moment()
    registration_opens_at = _moment()
    registration_closes_at = _moment()
    cancellation_deadline = _moment(metadata={"description": "default: when registration closes"})


class ActivityCreateSchema(ActivityChangeSchema):
    organiser_id = fields.String(required=True, validate=validate.Regexp(OBJECT_ID))
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(domain.ACTIVITY_KINDS))
    starts_at = _moment(required=True)
    ends_at = _moment(required=True)
    registration_opens_at = _moment(required=True)
    registration_closes_at = _moment(required=True)


class ActivitySchema(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True)
    description = fields.String(allow_none=True)
    venue = fields.String(allow_none=True)
    organiser_id = fields.String(required=True)
    audience = fields.Nested(AudienceSchema, required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    registration_opens_at = fields.DateTime(required=True)
    registration_closes_at = fields.DateTime(required=True)
    cancellation_deadline = fields.DateTime(required=True)
    capacity = fields.Integer(allow_none=True)
    status = fields.String(required=True)
    cancel_reason = fields.String(allow_none=True)
    confirmed = fields.Integer(required=True)
    waiting = fields.Integer(required=True)
    no_shows = fields.Integer(allow_none=True)
    version = fields.Integer(required=True)


class ActivityListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(domain.ACTIVITY_STATUSES))


class CancelSchema(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=500))


class CheckInCodeSchema(Schema):
    code = fields.String(required=True)
    valid_until = fields.DateTime(required=True)


class ResultItemSchema(Schema):
    registration_id = fields.String(required=True, validate=validate.Regexp(OBJECT_ID))
    score = fields.Float(allow_none=True, load_default=None, allow_nan=False)
    rank = WholeNumber(allow_none=True, load_default=None, validate=validate.Range(min=1))
    award = Text(allow_none=True, load_default=None, validate=validate.Length(min=1, max=100),
                 metadata={"description": "e.g. 一等奖"})
    honour = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(domain.HONOURS),
                           metadata={"description": "the honour the award confers on the member (评先推模)"})


class ResultsSchema(Schema):
    items = fields.List(fields.Nested(ResultItemSchema), required=True, validate=validate.Length(min=1, max=500))


class ResultsOutSchema(Schema):
    items = fields.List(fields.Nested(RegistrationSchema), required=True)


ActivityPage = page_schema(ActivitySchema, "ActivityPage")


def activity_out(a: Activity) -> dict:
    return {"id": str(a.pk), "title": a.title, "kind": a.kind, "description": a.description, "venue": a.venue,
            "organiser_id": a.organiser_id,
            "audience": {"org_id": a.audience_org_id, "genders": a.audience_genders,
                         "employment_types": a.audience_employment_types, "honours": a.audience_honours},
            "starts_at": a.starts_at, "ends_at": a.ends_at, "registration_opens_at": a.registration_opens_at,
            "registration_closes_at": a.registration_closes_at, "cancellation_deadline": a.cancellation_deadline,
            "capacity": a.capacity, "status": a.status, "cancel_reason": a.cancel_reason,
            "confirmed": a.confirmed or 0, "waiting": a.waiting or 0, "no_shows": a.no_shows, "version": a.version}


@blp.route("")
class Activities(MethodView):
    @blp.arguments(ActivityCreateSchema)
    @blp.response(201, ActivitySchema)
    def post(self, body):
        """Create a draft activity organised by an organisation of the caller's scope."""
        return activity_out(activities.create(context(), body))

    @blp.arguments(ActivityListArgs, location="query")
    @blp.response(200, ActivityPage)
    def get(self, args):
        """Staff: the activities organised at or below their organisation. A member: the activities
        published for an audience it is in."""
        found = activities.listing(context(), args.get("status"))
        return page(found.rows, args, activity_out, keep=found.keep)


@blp.route("/<activity_id>")
class ActivityById(MethodView):
    @blp.response(200, ActivitySchema)
    def get(self, activity_id):
        return activity_out(activities.read(context(), activity_id))

    @blp.arguments(ActivityChangeSchema)
    @blp.response(200, ActivitySchema)
    def patch(self, body, activity_id):
        """A draft changes freely; a published activity only its audience, capacity and texts. Lowering
        the capacity removes nobody; raising it promotes from the waitlist at once."""
        return activity_out(activities.update(context(), activity_id, body))


def _transition(action: str, summary: str):
    @blp.route(f"/<activity_id>/{action}", endpoint=action)
    class Transition(MethodView):
        @blp.response(200, ActivitySchema)
        def post(self, activity_id):
            return activity_out(activities.transition(context(), activity_id, action))
    Transition.post.__doc__ = summary
    return Transition


for _action, _summary in [("publish", "Publish: the audience may register inside the window."),
                          ("close", "Close registration before the window ends."),
                          ("start", "The activity is under way (check-in continues)."),
                          ("finish", "Finished: confirmed members who never checked in are recorded as no-shows.")]:
    _transition(_action, _summary)


@blp.route("/<activity_id>/cancel")
class Cancel(MethodView):
    @blp.arguments(CancelSchema)
    @blp.response(200, ActivitySchema)
    def post(self, body, activity_id):
        """Cancel with a reason (a draft, published or closed activity)."""
        return activity_out(activities.transition(context(), activity_id, "cancel", body["reason"]))


@blp.route("/<activity_id>/check-in-code")
class CheckInCode(MethodView):
    @blp.response(200, CheckInCodeSchema)
    def get(self, activity_id):
        """The code to show at the venue now (it changes every minute), for staff running it."""
        return activities.check_in_code(context(), activity_id)


@blp.route("/<activity_id>/results")
class Results(MethodView):
    @blp.arguments(ResultsSchema)
    @blp.response(200, ResultsOutSchema)
    def put(self, body, activity_id):
        """Scores, ranks and awards of a competition's confirmed registrants; an award that confers an
        honour reaches the member through award.granted."""
        recorded = registrations.record_results(context(), activity_id, body["items"])
        return {"items": [registration_out(r) for r in recorded]}
