"""Announcements (厂务公开, 校务公开, 工会简报): staff send one to an organisation's subtree, optionally
narrowed by gender and employment type; the worker puts it in every member's inbox in batches; staff
see how many received and read it."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.pagination import PageArgs, page, page_schema
from shared.scope import get_visible, require_role

from ..documents import Announcement
from ..domain.templates import ANNOUNCEMENT_KINDS
from .scope import caller, staff_org, staff_sees

blp = Blueprint("announcements", __name__, url_prefix="/api/v1/announcements",
                description="Announcements to an organisation's members (厂务公开, 校务公开, 工会简报)")

GENDERS = ("female", "male")
EMPLOYMENT_TYPES = ("permanent", "contract", "dispatched", "migrant", "rehired", "temporary", "gig")


class AnnouncementSchema(Schema):
    id = fields.String(dump_only=True)
    org_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    kind = fields.String(required=True, validate=validate.OneOf(list(ANNOUNCEMENT_KINDS)),
                         metadata={"description": "factory_affairs 厂务公开, school_affairs 校务公开, newsletter 工会简报"})
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    genders = fields.List(fields.String(validate=validate.OneOf(GENDERS)), load_default=list,
                          validate=validate.Length(max=len(GENDERS)))
    employment_types = fields.List(fields.String(validate=validate.OneOf(EMPLOYMENT_TYPES)), load_default=list,
                                   validate=validate.Length(max=len(EMPLOYMENT_TYPES)))
    status = fields.String(dump_only=True, metadata={"description": "sending, then sent once everyone has it"})
    recipients = fields.Integer(dump_only=True, metadata={"description": "messages delivered so far"})
    read = fields.Integer(dump_only=True, metadata={"description": "of them, read"})
    created_by = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    sent_at = fields.DateTime(dump_only=True, allow_none=True)


class AnnouncementArgs(PageArgs):
    pass


AnnouncementPage = page_schema(AnnouncementSchema, "AnnouncementPage")


def announcement_out(a: Announcement) -> dict:
    return {"id": str(a.pk), "org_id": a.org_id, "kind": a.kind, "title": a.title, "body": a.body,
            "genders": list(a.genders), "employment_types": list(a.employment_types), "status": a.status,
            "recipients": a.recipients, "read": a.read, "created_by": a.created_by, "created_at": a.created_at,
            "sent_at": a.sent_at}


@blp.route("")
class Announcements(MethodView):
    @blp.arguments(AnnouncementArgs, location="query")
    @blp.response(200, AnnouncementPage)
    def get(self, args):
        """Announcements to the caller's organisation's subtree (staff), newest first."""
        who = caller()
        require_role(who, "admin", "operator")
        queryset = Announcement.objects
        if not (who.has("operator") and who.org is None):
            queryset = queryset.filter(org_path=who.org)
        return page(queryset, args, announcement_out)

    @blp.arguments(AnnouncementSchema)
    @blp.response(201, AnnouncementSchema)
    def post(self, body):
        """Send an announcement to an organisation at or below the caller's (staff); delivery to every
        active member in scope follows in the worker."""
        who = caller()
        require_role(who, "admin", "operator")
        org = staff_org(who, body["org_id"])
        announcement = Announcement(org_id=org.pk, org_path=list(org.path), kind=body["kind"], title=body["title"],
                                    body=body["body"], genders=sorted(set(body["genders"])),
                                    employment_types=sorted(set(body["employment_types"])), created_by=who.sub)
        announcement.save()
        return announcement_out(announcement)


@blp.route("/<announcement_id>")
class AnnouncementOne(MethodView):
    @blp.response(200, AnnouncementSchema)
    def get(self, announcement_id):
        """One announcement with how many received and read it (staff of its organisation or above)."""
        who = caller()
        found = get_visible(Announcement, announcement_id, lambda a: staff_sees(who, a.org_path), "announcement")
        return announcement_out(found)
