"""Transfers between unions (会员关系转接): request, accept, decline, expire."""
from __future__ import annotations

from bson import ObjectId
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from shared.events.envelope import utcnow
from shared.fields import Text
from shared.pagination import PageArgs, page, page_schema
from shared.scope import get_visible, require_role
from shared.web import ApiError

from .. import domain, transfers
from ..documents import Member, Organisation, Transfer
from ..published import TRANSFER_ACCEPTED, TRANSFER_DECLINED, TRANSFER_REQUESTED, transfer_data
from . import scope
from .members import caller, refuse, visible_member

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


def visible_transfer(who):
    def visible(t: Transfer) -> bool:
        if who.acts_as_member(t.member_id):
            return True
        return (who.has("admin") or who.has("operator")) and (scope.sees(who, t.from_org_path)
                                                             or scope.sees(who, t.to_org_path))
    return visible


def receiving(transfer_id: str) -> Transfer:
    """A transfer the caller may answer: an admin of the receiving side."""
    who = caller()
    require_role(who, "operator", "admin")
    transfer = get_visible(Transfer, transfer_id, visible_transfer(who), "transfer")
    if not scope.sees(who, transfer.to_org_path):
        raise ApiError(403, "only the receiving union answers a transfer request")
    return transfer


def decide(transfer: Transfer, status: str, event_type, reason: str | None = None) -> Transfer:
    now = utcnow()
    try:
        domain.check_decision(transfer.status, transfer.expires_at, now)
    except domain.DomainError as exc:
        if transfer.status == "requested":
            transfers.expire_due(now)  # it lapsed: say so, and record it
        refuse(exc)
    who = caller()
    transfer.status, transfer.decided_at, transfer.decided_by = status, now, who.sub
    transfer.decision_reason, transfer.version = reason, transfer.version + 1
    if not Transfer.update_with_event(transfer.pk, event_type, transfer_data(transfer),
                                      conditions={"status": "requested"}, set__status=status, set__decided_at=now,
                                      set__decided_by=who.sub, set__decision_reason=reason,
                                      set__version=transfer.version):
        raise ApiError(409, "the transfer was answered meanwhile", code="conflict")
    return transfer


@blp.route("")
class Transfers(MethodView):
    @blp.arguments(TransferRequestSchema)
    @blp.response(201, TransferSchema)
    def post(self, body):
        """Request a transfer: the member's current branch, or the member itself."""
        who = caller()
        member = get_visible(Member, body["member_id"], visible_member(who), "member")
        to_org = Organisation.objects(pk=ObjectId(body["to_org_id"]) if ObjectId.is_valid(body["to_org_id"])
                                      else None).first()
        member_path, to_path = scope.current_path(member.org_path), scope.current_path(to_org.path if to_org else [])
        if to_org is None or not to_path or not member_path or to_path[0] != member_path[0]:
            # another federation's organisation is as unknown as a missing one: nothing about it is told
            raise ApiError(404, "organisation not found", {"to_org_id": ["No such organisation."]})
        try:
            domain.check_can_hold_members(to_org.kind, to_org.status)
            domain.check_request(member.status, member.org_id, str(to_org.pk), member.open_transfer_id)
        except domain.DomainError as exc:
            refuse(exc, 409 if exc.field == "member_id" and member.open_transfer_id else 422)
        now = utcnow()
        transfer = Transfer(id=ObjectId(), member_id=str(member.pk), member_name=member.name,
                            from_org_id=member.org_id, from_org_path=member_path, to_org_id=str(to_org.pk),
                            to_org_path=to_path, requested_by=who.sub, requested_at=now,
                            expires_at=domain.expires_at(now, current_app.extensions["gonghui.settings"]
                                                         .transfer_expiry_days),
                            reason=body["reason"])
        # Claim the member first (atomic), so two requests cannot both be open.
        if not Member.objects(pk=member.pk, open_transfer_id=None).update_one(set__open_transfer_id=str(transfer.pk)):
            raise ApiError(409, "another transfer is already waiting for an answer", {"member_id": ["Busy."]},
                           code="conflict")
        transfer.record(TRANSFER_REQUESTED, transfer_data(transfer))
        try:
            transfer.save(force_insert=True)
        except Exception:
            transfers.release_claim(transfer)
            raise
        return transfer_out(transfer)

    @blp.arguments(TransferListArgs, location="query")
    @blp.response(200, TransferPage)
    def get(self, args):
        """Transfers into (incoming) or out of (outgoing) the caller's organisation and below."""
        who = caller()
        require_role(who, "admin", "operator")
        if who.org is None:
            queryset = Transfer.objects
        else:
            side = "to_org_path" if args["direction"] == "incoming" else "from_org_path"
            queryset = Transfer.objects(**{side: who.org})
        if args.get("status"):
            queryset = queryset.filter(status=args["status"])
        if who.org is None:
            return page(queryset, args, transfer_out)
        side_path = (lambda t: t.to_org_path) if args["direction"] == "incoming" else (lambda t: t.from_org_path)
        return page(queryset, args, transfer_out, keep=scope.within(who.org, side_path))


@blp.route("/<transfer_id>")
class TransferById(MethodView):
    @blp.response(200, TransferSchema)
    def get(self, transfer_id):
        """Either side's admins, or the member, may read a transfer."""
        return transfer_out(get_visible(Transfer, transfer_id, visible_transfer(caller()), "transfer"))


@blp.route("/<transfer_id>/accept")
class Accept(MethodView):
    @blp.response(200, TransferSchema)
    def post(self, transfer_id):
        """Accept: the member joins the receiving union; dues and history continue."""
        transfer = decide(receiving(transfer_id), "accepted", TRANSFER_ACCEPTED)
        transfers.complete(transfer, caller().sub)
        transfer.reload()
        return transfer_out(transfer)


@blp.route("/<transfer_id>/decline")
class Decline(MethodView):
    @blp.arguments(DeclineSchema)
    @blp.response(200, TransferSchema)
    def post(self, body, transfer_id):
        """Decline with a reason; the member stays where it was."""
        transfer = decide(receiving(transfer_id), "declined", TRANSFER_DECLINED, body["reason"])
        transfers.release_claim(transfer)
        return transfer_out(transfer)
