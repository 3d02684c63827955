"""The in-app inbox (站内信): a member's notifications, read/unread."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from shared.events.envelope import utcnow
from shared.pagination import PageArgs, page, page_schema
from shared.scope import get_visible
from shared.web import ApiError, current_caller

from ..documents import InboxMessage, Recipient

blp = Blueprint("inbox", __name__, url_prefix="/api/v1/inbox", description="In-app inbox (站内信)")


class InboxArgs(PageArgs):
    member_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    unread = fields.Boolean(load_default=None)


class MessageSchema(Schema):
    id = fields.String(required=True)
    member_id = fields.String(required=True)
    category = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)


MessagePage = page_schema(MessageSchema, "MessagePage")


def message_out(message: InboxMessage) -> dict:
    return {"id": str(message.pk), "member_id": message.member_id, "category": message.category,
            "title": message.title, "body": message.body, "created_at": message.created_at,
            "read_at": message.read_at}


def may_read_inbox(caller, member_id: str, org_path: list[str]) -> bool:
    if caller.acts_as_member(member_id):
        return True
    return (caller.has("admin") or caller.has("operator")) and caller.can_see(org_path)


@blp.route("")
class Inbox(MethodView):
    @blp.arguments(InboxArgs, location="query")
    @blp.response(200, MessagePage)
    def get(self, args):
        """A member's messages, newest first: the member itself or an admin of its branch."""
        caller = current_caller(current_app.extensions["gonghui.settings"])
        recipient = Recipient.objects(pk=args["member_id"]).first()
        if recipient is None or not may_read_inbox(caller, recipient.pk, recipient.org_path):
            raise ApiError(404, "member not found", {"member_id": ["No such member."]})
        queryset = InboxMessage.objects(member_id=recipient.pk)
        if args["unread"] is not None:
            queryset = queryset.filter(read_at__exists=not args["unread"])
        return page(queryset, args, message_out)


@blp.route("/<message_id>/read")
class MarkRead(MethodView):
    @blp.response(200, MessageSchema)
    def post(self, message_id):
        """Mark a message read (only the member itself)."""
        caller = current_caller(current_app.extensions["gonghui.settings"])
        message = get_visible(InboxMessage, message_id, lambda m: caller.acts_as_member(m.member_id), "message")
        InboxMessage.objects(pk=message.pk, read_at__exists=False).update_one(set__read_at=utcnow())
        message.reload()
        return message_out(message)
