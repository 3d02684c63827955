"""The in-app inbox (站内信): a member's notifications (or an organisation's, for its staff), read/unread."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.errors import NotFound
from shared.events.envelope import utcnow
from shared.pagination import PageArgs, page, page_schema
from shared.scope import get_visible

from ..documents import Announcement, InboxMessage, OrgView
from .scope import caller, may_read_inbox, readable_member, staff_org, staff_sees

blp = Blueprint("inbox", __name__, url_prefix="/api/v1/inbox", description="In-app inbox (站内信)")

_ID = validate.Length(min=1, max=64)


class WhoseArgs(Schema):
    member_id = fields.String(validate=_ID, load_default=None,
                              metadata={"description": "The member (a member token: itself when left out)."})
    org_id = fields.String(validate=_ID, load_default=None,
                           metadata={"description": "An organisation's inbox, for its staff (instead of a member)."})


class InboxArgs(PageArgs, WhoseArgs):
    unread = fields.Boolean(load_default=None)


class MessageSchema(Schema):
    id = fields.String(required=True)
    member_id = fields.String(allow_none=True)
    org_id = fields.String(allow_none=True)
    category = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    announcement_id = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)


class UnreadSchema(Schema):
    unread = fields.Integer(required=True)


class MarkedSchema(Schema):
    marked = fields.Integer(required=True)


class ReadAllBody(Schema):
    member_id = fields.String(validate=_ID, load_default=None,
                              metadata={"description": "The caller itself; left out, the caller's own."})


MessagePage = page_schema(MessageSchema, "MessagePage")


def message_out(message: InboxMessage) -> dict:
    return {"id": str(message.pk), "member_id": message.member_id, "org_id": message.org_id,
            "category": message.category, "title": message.title, "body": message.body,
            "announcement_id": message.announcement_id, "created_at": message.created_at,
            "read_at": message.read_at}


def _whose(args) -> dict:
    """The query of the inbox a caller may read: a member's, or an organisation's for its staff."""
    who = caller()
    if args.get("org_id"):
        if args.get("member_id"):
            raise NotFound("member not found", {"member_id": ["Name a member or an organisation, not both."]})
        return {"org_id": staff_org(who, args["org_id"]).pk}
    return {"member_id": readable_member(who, args.get("member_id")).pk}


def _readable_by(who, message: InboxMessage) -> bool:
    """A member's message by the member; an organisation's by its staff (the organisation's current path,
    whatever moves happened since)."""
    if message.member_id:
        return who.acts_as_member(message.member_id)
    view = OrgView.objects(pk=message.org_id).only("path").first()
    return staff_sees(who, view.path if view else message.org_path)


def mark_read(message_ids) -> int:
    """Each message read once; an announcement's counter follows each first reading."""
    marked = 0
    for message_id, announcement_id in message_ids:
        now = utcnow()
        if InboxMessage.objects(pk=message_id, read_at__exists=False).update_one(set__read_at=now):
            marked += 1
            if announcement_id:
                Announcement.objects(pk=announcement_id).update_one(inc__read=1)
    return marked


@blp.route("")
class Inbox(MethodView):
    @blp.arguments(InboxArgs, location="query")
    @blp.response(200, MessagePage)
    def get(self, args):
        """A member's messages, newest first: the member itself or staff of its branch or above; or,
        with ``org_id``, an organisation's (transfers to decide, reviews to hold, objections)."""
        queryset = InboxMessage.objects(**_whose(args))
        if args["unread"] is not None:
            queryset = queryset.filter(read_at__exists=not args["unread"])
        return page(queryset, args, message_out)


@blp.route("/unread-count")
class UnreadCount(MethodView):
    @blp.arguments(WhoseArgs, location="query")
    @blp.response(200, UnreadSchema)
    def get(self, args):
        """How many messages are unread (the same readers as the inbox)."""
        return {"unread": InboxMessage.objects(**_whose(args), read_at__exists=False).count()}


@blp.route("/<message_id>/read")
class MarkRead(MethodView):
    @blp.response(200, MessageSchema)
    def post(self, message_id):
        """Mark a message read: only the member itself (an organisation's: its staff)."""
        who = caller()
        message = get_visible(InboxMessage, message_id, lambda m: _readable_by(who, m), "message")
        mark_read([(message.pk, message.announcement_id)])
        message.reload()
        return message_out(message)


@blp.route("/read-all")
class MarkAllRead(MethodView):
    @blp.arguments(ReadAllBody)
    @blp.response(200, MarkedSchema)
    def post(self, body):
        """Mark every unread message of the caller's own inbox read (a member reads only its own)."""
        who = caller()
        member_id = body["member_id"] or (who.sub if who.has("member") else None)
        if member_id is None or not who.acts_as_member(member_id):
            raise NotFound("member not found", {"member_id": ["No such member."]})
        unread = InboxMessage.objects(member_id=member_id, read_at__exists=False)
        announced = [(m.pk, m.announcement_id) for m in unread.filter(announcement_id__exists=True)
                     .only("id", "announcement_id")]
        marked = mark_read(announced)
        marked += unread.filter(announcement_id__exists=False).update(set__read_at=utcnow())
        return {"marked": marked}


__all__ = ["blp", "may_read_inbox", "message_out"]
