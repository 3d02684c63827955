"""The delivery log: every email, SMS and webhook call with each of its attempts (number, when, outcome,
error), for the staff of the recipient's branch or above (a hook's: of its organisation or above).
Addresses and texts stay out: the log says who, what, how and how it went."""
from __future__ import annotations

from bson import ObjectId
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.errors import NotFound
from shared.pagination import PageArgs, page, page_schema
from shared.scope import get_visible, require_role

from ..documents import Delivery, Webhook
from .scope import caller, readable_member, staff_org, staff_sees

blp = Blueprint("deliveries", __name__, url_prefix="/api/v1/deliveries",
                description="The delivery log: email, SMS and webhook deliveries and their attempts (投递记录)")

_ID = validate.Length(min=1, max=64)
CHANNELS = ("email", "sms", "webhook")
STATUSES = ("pending", "sending", "retrying", "sent", "dead")


class DeliveryArgs(PageArgs):
    org_id = fields.String(validate=_ID, load_default=None,
                           metadata={"description": "Deliveries to this organisation's subtree (default: the caller's)."})
    member_id = fields.String(validate=_ID, load_default=None)
    hook_id = fields.String(validate=_ID, load_default=None)
    event_id = fields.String(validate=validate.Length(min=1, max=200), load_default=None)
    channel = fields.String(validate=validate.OneOf(CHANNELS), load_default=None)
    status = fields.String(validate=validate.OneOf(STATUSES), load_default=None)


class AttemptSchema(Schema):
    number = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    status = fields.String(required=True, metadata={"description": "sent, failed, or interrupted (the sender "
                                                                   "stopped before recording; sent again)"})
    error = fields.String(allow_none=True)
    took_ms = fields.Integer(allow_none=True)


class DeliverySchema(Schema):
    id = fields.String(required=True)
    channel = fields.String(required=True)
    event_type = fields.String(required=True)
    event_id = fields.String(required=True)
    member_id = fields.String(allow_none=True)
    hook_id = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"description": ", ".join(STATUSES)})
    attempts = fields.Integer(required=True)
    next_at = fields.DateTime(allow_none=True, metadata={"description": "when it goes (again), while it waits"})
    created_at = fields.DateTime(required=True)
    sent_at = fields.DateTime(allow_none=True)
    tries = fields.List(fields.Nested(AttemptSchema), required=True)


DeliveryPage = page_schema(DeliverySchema, "DeliveryPage")


def delivery_out(d: Delivery) -> dict:
    waiting = d.status in ("pending", "retrying")
    return {"id": str(d.pk), "channel": d.channel, "event_type": d.event_type, "event_id": d.event_id,
            "member_id": d.member_id, "hook_id": d.hook_id, "category": d.category, "subject": d.subject,
            "status": d.status, "attempts": d.attempts, "next_at": d.next_at if waiting else None,
            "created_at": d.created_at, "sent_at": d.sent_at,
            "tries": [{"number": t.number, "at": t.at, "status": t.status, "error": t.error, "took_ms": t.took_ms}
                      for t in d.tries]}


def _staff():
    who = caller()
    require_role(who, "admin", "operator")
    return who


@blp.route("")
class Deliveries(MethodView):
    @blp.arguments(DeliveryArgs, location="query")
    @blp.response(200, DeliveryPage)
    def get(self, args):
        """Deliveries in the caller's scope, newest first, narrowed by organisation, member, hook, event,
        channel or status (staff)."""
        who = _staff()
        queryset = Delivery.objects.exclude("body", "outbox")
        if args["member_id"]:
            queryset = queryset.filter(member_id=readable_member(who, args["member_id"]).pk)
        if args["hook_id"]:
            hook = Webhook.objects(pk=args["hook_id"]).only("org_path").first() if ObjectId.is_valid(
                args["hook_id"]) else None
            if hook is None or not staff_sees(who, hook.org_path):
                raise NotFound("webhook not found", {"hook_id": ["No such webhook."]})
            queryset = queryset.filter(hook_id=args["hook_id"])
        if args["org_id"]:
            queryset = queryset.filter(org_path=staff_org(who, args["org_id"]).pk)
        elif not (who.has("operator") and who.org is None):
            queryset = queryset.filter(org_path=who.org)
        for name in ("event_id", "channel", "status"):
            if args[name]:
                queryset = queryset.filter(**{name: args[name]})
        return page(queryset, args, delivery_out)


@blp.route("/<delivery_id>")
class DeliveryOne(MethodView):
    @blp.response(200, DeliverySchema)
    def get(self, delivery_id):
        """One delivery with every attempt (staff of the recipient's branch or above)."""
        who = _staff()
        found = get_visible(Delivery, delivery_id, lambda d: staff_sees(who, d.org_path), "delivery")
        return delivery_out(found)
