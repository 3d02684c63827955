"""Transfers between unions (会员关系转接): request, accept, decline, expire."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.fields import Text
from shared.pagination import PageArgs, page, page_schema

from .. import domain
from ..app import transfers
from ..documents import Transfer
from .scope import context

blp = Blueprint("transfers", __name__, url_prefix="/api/v1/transfers", description="Transfers (会员关系转接)")


class TransferRequestSchema(Schema):
    member_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    to_org_id = fields.String(required=True, validate=validate.Length(min=1, max=64),
                              metadata={"description": "the receiving union (it need not be in the caller's scope)"})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class DeclineSchema(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=500))


class TransferSchema(Schema):
    id = fields.String(required=True)
    member_id = fields.String(required=True)
    member_name = fields.String(required=True)
    from_org_id = fields.String(required=True)
    to_org_id = fields.String(required=True)
    status = fields.String(required=True)
    reason = fields.String(allow_none=True)
    requested_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    completed = fields.Boolean(required=True)


class TransferListArgs(PageArgs):
    direction = fields.String(load_default="incoming", validate=validate.OneOf(["incoming", "outgoing"]))
    status = fields.String(validate=validate.OneOf(domain.TRANSFER_STATUSES))


TransferPage = page_schema(TransferSchema, "TransferPage")


def transfer_out(t: Transfer) -> dict:
    return {"id": str(t.pk), "member_id": t.member_id, "member_name": t.member_name, "from_org_id": t.from_org_id,
            "to_org_id": t.to_org_id, "status": t.status, "reason": t.reason, "requested_at": t.requested_at,
            "expires_at": t.expires_at, "decided_at": t.decided_at, "decision_reason": t.decision_reason,
            "completed": t.completed}


@blp.route("")
class Transfers(MethodView):
    @blp.arguments(TransferRequestSchema)
    @blp.response(201, TransferSchema)
    def post(self, body):
        """Request a transfer: the member's current branch, or the member itself."""
        return transfer_out(transfers.request(context(), body["member_id"], body["to_org_id"], body["reason"]))

    @blp.arguments(TransferListArgs, location="query")
    @blp.response(200, TransferPage)
    def get(self, args):
        """Transfers into (incoming) or out of (outgoing) the caller's organisation and below."""
        found = transfers.listing(context(), args["direction"], args.get("status"))
        return page(found.rows, args, transfer_out, keep=found.keep)


@blp.route("/<transfer_id>")
class TransferById(MethodView):
    @blp.response(200, TransferSchema)
    def get(self, transfer_id):
        """Either side's admins, or the member, may read a transfer."""
        return transfer_out(transfers.read(context(), transfer_id))


@blp.route("/<transfer_id>/accept")
class Accept(MethodView):
    @blp.response(200, TransferSchema)
    def post(self, transfer_id):
        """Accept: the member joins the receiving union; dues and history continue."""
        return transfer_out(transfers.accept(context(), transfer_id))


@blp.route("/<transfer_id>/decline")
class Decline(MethodView):
    @blp.arguments(DeclineSchema)
    @blp.response(200, TransferSchema)
    def post(self, body, transfer_id):
        """Decline with a reason; the member stays where it was."""
        return transfer_out(transfers.decline(context(), transfer_id, body["reason"]))
