"""The hardship registry (困难职工档案): household files, their public notice and objections."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.fields import Text
from shared.pagination import PageArgs, page, page_schema

from ..app import hardship
from ..documents import HardshipFile, Objection
from ..domain.hardship import CATEGORIES, CAUSES, STATUSES
from .common import OBJECT_ID, StepSchema, fen, steps_out
from .scope import context

blp = Blueprint("hardship", __name__, url_prefix="/api/v1", description="Hardship registry (困难职工档案)")


class DetailsSchema(Schema):
    """Sealed at rest; shown only to the admins of the branch or above, every read recorded."""
    causes = fields.List(fields.String(validate=validate.OneOf(CAUSES)), required=True,
                         validate=validate.Length(min=1, max=len(CAUSES)))
    household_size = fields.Integer(required=True, validate=validate.Range(min=1, max=30))
    income_per_head_fen = fen(minimum=0, description="monthly income per head, integer fen")
    local_minimum_fen = fen(description="the local minimum living allowance (低保) per head and month, integer fen")
    health = Text(load_default=None, validate=validate.Length(min=1, max=2000))
    circumstances = Text(load_default=None, validate=validate.Length(min=1, max=4000))


class FileSubmitSchema(Schema):
    member_id = fields.String(validate=OBJECT_ID, metadata={"description": "staff name the member"})
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES),
                             metadata={"description": "deep 深度困难, relative 相对困难, accident 意外致困"})
    details = fields.Nested(DetailsSchema, required=True)


class VisitSchema(Schema):
    visited_by = Text(required=True, validate=validate.Length(min=1, max=200))
    visited_on = fields.Date(required=True)
    findings = Text(required=True, validate=validate.Length(min=1, max=4000))


class FileApproveSchema(Schema):
    review_on = fields.Date(load_default=None, metadata={"description": "default: a year from today"})
    note = Text(load_default=None, validate=validate.Length(min=1, max=1000))


class FileRejectSchema(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=1000))


class RecheckSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(("renew", "close")),
                            metadata={"description": "renew, or close (解困脱困)"})
    review_on = fields.Date(load_default=None)
    category = fields.String(load_default=None, validate=validate.OneOf(CATEGORIES))
    details = fields.Nested(DetailsSchema, load_default=None)
    note = Text(load_default=None, validate=validate.Length(min=1, max=1000))


class ObjectionInSchema(Schema):
    text = Text(required=True, validate=validate.Length(min=1, max=2000))


class ResolveSchema(Schema):
    upheld = fields.Boolean(required=True)
    resolution = Text(required=True, validate=validate.Length(min=1, max=1000))


class FileSchema(Schema):
    id = fields.String(required=True)
    member_id = fields.String(required=True)
    org_id = fields.String(required=True)
    category = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    visited_at = fields.DateTime(allow_none=True)
    notice_opens_at = fields.DateTime(allow_none=True)
    notice_closes_at = fields.DateTime(allow_none=True)
    objections = fields.Integer(required=True)
    open_objections = fields.Integer(required=True)
    review_on = fields.Date(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    submitted_at = fields.DateTime(required=True)
    filed_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    history = fields.List(fields.Nested(StepSchema), required=True)


class FileListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    due = fields.Boolean(load_default=False, metadata={"description": "filed files past their review date"})


class OpenedSchema(Schema):
    details = fields.Dict(required=True)
    visit = fields.Dict(allow_none=True)
    history = fields.List(fields.Dict(), required=True, metadata={"description": "details a re-check replaced"})


class DetailsReadSchema(Schema):
    by = fields.String(required=True)
    by_org = fields.String(allow_none=True)
    fields_read = fields.List(fields.String(), required=True)
    at = fields.DateTime(required=True)


class ObjectionSchema(Schema):
    id = fields.String(required=True)
    file_id = fields.String(required=True)
    text = fields.String(allow_none=True)
    status = fields.String(required=True)
    resolution = fields.String(allow_none=True)
    lodged_at = fields.DateTime(required=True)
    resolved_at = fields.DateTime(allow_none=True)


FilePage = page_schema(FileSchema, "HardshipFilePage")
ObjectionPage = page_schema(ObjectionSchema, "ObjectionPage")
DetailsReadPage = page_schema(DetailsReadSchema, "DetailsReadPage")


def file_out(f: HardshipFile) -> dict:
    return {"id": str(f.pk), "member_id": f.member_id, "org_id": f.org_id, "category": f.category, "status": f.status,
            "visited_at": f.visited_at, "notice_opens_at": f.notice_opens_at, "notice_closes_at": f.notice_closes_at,
            "objections": f.objections or 0, "open_objections": f.open_objections or 0, "review_on": f.review_on,
            "rejection_reason": f.rejection_reason, "submitted_at": f.submitted_at, "filed_at": f.filed_at,
            "closed_at": f.closed_at, "history": steps_out(f.history)}


def objection_out(o: Objection) -> dict:
    return {"id": str(o.pk), "file_id": str(o.file_id), "text": hardship.objection_text(context(), o),
            "status": o.status, "resolution": o.resolution, "lodged_at": o.lodged_at, "resolved_at": o.resolved_at}


@blp.route("/hardship-files")
class Files(MethodView):
    @blp.arguments(FileSubmitSchema)
    @blp.response(201, FileSchema)
    def post(self, body):
        """Submit a household file for a member (staff of its branch or above, or the member itself)."""
        return file_out(hardship.submit(context(), body.get("member_id"), body["category"], body["details"]))

    @blp.arguments(FileListArgs, location="query")
    @blp.response(200, FilePage)
    def get(self, args):
        """Staff: files of their organisation and below (``due``: to re-check); a member: its own."""
        found = hardship.listing(context(), args.get("status"), args["due"])
        return page(found.rows, args, file_out, keep=found.keep)


@blp.route("/hardship-files/<file_id>")
class FileById(MethodView):
    @blp.response(200, FileSchema)
    def get(self, file_id):
        """The file's state and history (never its household details)."""
        return file_out(hardship.read(context(), file_id))


@blp.route("/hardship-files/<file_id>/details")
class Details(MethodView):
    @blp.response(200, OpenedSchema)
    def get(self, file_id):
        """The household's details in clear, for the admins of its branch or above; every read is recorded."""
        return hardship.details(context(), file_id)


@blp.route("/hardship-files/<file_id>/details-reads")
class DetailsReads(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, DetailsReadPage)
    def get(self, args, file_id):
        """Who read the household's details, and when."""
        return page(hardship.details_reads(context(), file_id), args,
                    lambda r: {"by": r.by, "by_org": r.by_org, "fields_read": list(r.fields), "at": r.at})


@blp.route("/hardship-files/<file_id>/visit")
class Visit(MethodView):
    @blp.arguments(VisitSchema)
    @blp.response(200, FileSchema)
    def post(self, body, file_id):
        """The home visit (入户调查): who visited, when, what they found (sealed)."""
        return file_out(hardship.visit(context(), file_id, body["visited_by"], body["visited_on"], body["findings"]))


@blp.route("/hardship-files/<file_id>/notice")
class Notice(MethodView):
    @blp.response(200, FileSchema)
    def post(self, file_id):
        """Open the public notice (公示) for the organisation's number of days."""
        return file_out(hardship.open_notice(context(), file_id))


@blp.route("/hardship-files/<file_id>/notice/close")
class CloseNotice(MethodView):
    @blp.response(200, FileSchema)
    def post(self, file_id):
        """Close a notice that has run its days (the worker does it for every file)."""
        return file_out(hardship.close_notice_now(context(), file_id))


@blp.route("/hardship-files/<file_id>/objections")
class Objections(MethodView):
    @blp.arguments(ObjectionInSchema)
    @blp.response(201, ObjectionSchema)
    def post(self, body, file_id):
        """A member of the same union objects while the notice runs."""
        return objection_out(hardship.lodge_objection(context(), file_id, body["text"]))

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ObjectionPage)
    def get(self, args, file_id):
        """Staff: the objections to a file."""
        found = hardship.objections(context(), file_id)
        return page(found.rows, args, objection_out, keep=found.keep)


@blp.route("/objections/<objection_id>")
class ObjectionById(MethodView):
    @blp.response(200, ObjectionSchema)
    def get(self, objection_id):
        """Staff in scope, or the member who lodged it."""
        return objection_out(hardship.read_objection(context(), objection_id))


@blp.route("/objections/<objection_id>/resolve")
class Resolve(MethodView):
    @blp.arguments(ResolveSchema)
    @blp.response(200, ObjectionSchema)
    def post(self, body, objection_id):
        """Staff resolve an objection: upheld or dismissed, with what they found."""
        return objection_out(hardship.resolve_objection(context(), objection_id, body["upheld"], body["resolution"]))


@blp.route("/hardship-files/<file_id>/approve")
class Approve(MethodView):
    @blp.arguments(FileApproveSchema)
    @blp.response(200, FileSchema)
    def post(self, body, file_id):
        """The level above the branch files it (after the notice; refused while an objection is unresolved)."""
        return file_out(hardship.approve(context(), file_id, body["review_on"], body["note"]))


@blp.route("/hardship-files/<file_id>/reject")
class Reject(MethodView):
    @blp.arguments(FileRejectSchema)
    @blp.response(200, FileSchema)
    def post(self, body, file_id):
        return file_out(hardship.reject(context(), file_id, body["reason"]))


@blp.route("/hardship-files/<file_id>/recheck")
class Recheck(MethodView):
    @blp.arguments(RecheckSchema)
    @blp.response(200, FileSchema)
    def post(self, body, file_id):
        """Re-check a filed file: renew it (new review date, details as found now) or close it (解困脱困)."""
        return file_out(hardship.recheck(context(), file_id, body["outcome"], body["review_on"], body["details"],
                                         body["category"], body["note"]))
