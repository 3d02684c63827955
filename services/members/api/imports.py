"""Roster imports over HTTP: upload a CSV or XLSX file, then follow the job."""
from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from shared.pagination import PageArgs, page, page_schema
from shared.scope import get_visible, require_role
from shared.web import ApiError

from .. import domain, imports
from ..documents import ImportJob, Organisation
from . import scope
from .members import caller
from .orgs import visible_org

blp = Blueprint("imports", __name__, url_prefix="/api/v1/imports", description="Roster imports (会员名册导入)")


class UploadSchema(Schema):
    org_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class FileSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class ImportRowError(Schema):
    line = fields.Integer(required=True)
    field = fields.String(allow_none=True)
    reason = fields.String(required=True)


class JobSchema(Schema):
    id = fields.String(required=True)
    org_id = fields.String(required=True)
    filename = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "queued, running, done or failed"})
    rows_total = fields.Integer(required=True)
    rows_done = fields.Integer(required=True)
    imported = fields.Integer(required=True)
    already_registered = fields.Integer(required=True)
    error_count = fields.Integer(required=True)
    errors = fields.List(fields.Nested(ImportRowError), required=True,
                         metadata={"description": f"the first {imports.MAX_REPORTED} bad rows: line, field and "
                                                  "reason, never the cell's value"})
    failure = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)


JobPage = page_schema(JobSchema, "ImportJobPage")


def job_out(job: ImportJob) -> dict:
    return {"id": str(job.pk), "org_id": job.org_id, "filename": job.filename, "status": job.status,
            "rows_total": job.rows_total, "rows_done": job.rows_done, "imported": job.imported,
            "already_registered": job.already_registered, "error_count": job.error_count,
            "errors": [{"line": e.line, "field": e.field, "reason": e.reason} for e in job.errors],
            "failure": job.failure, "created_at": job.created_at, "finished_at": job.finished_at}


def _visible(who):
    return lambda job: (who.has("admin") or who.has("operator")) and scope.sees(who, job.org_path)


@blp.before_request
def _room_for_rosters():
    """Rosters are the one upload allowed past the platform's 2 MiB body limit (multipart adds a little)."""
    request.max_content_length = imports.MAX_FILE_BYTES + 2**20


@blp.route("")
class Imports(MethodView):
    @blp.arguments(UploadSchema, location="form")
    @blp.arguments(FileSchema, location="files")
    @blp.response(202, JobSchema)
    def post(self, form, files):
        """Upload a roster (CSV in UTF-8 or GB18030, or XLSX; headers in Chinese or English) for an
        organisation. The worker imports it; follow the job for progress and the error report. At most
        64 MiB, a header and 200,000 rows, the first 64 columns; the file is kept encrypted, and only
        until its import ends (24 h at most)."""
        who = caller()
        require_role(who, "operator", "admin")
        org = get_visible(Organisation, form["org_id"], visible_org(who), "organisation")
        upload = files["file"]
        content = upload.read(imports.MAX_FILE_BYTES + 1)
        if len(content) > imports.MAX_FILE_BYTES:
            raise ApiError(413, f"the file is larger than {imports.MAX_FILE_BYTES // 2**20} MiB")
        if not content.strip():
            raise ApiError(422, "the file is empty", {"file": ["Empty file."]})
        try:
            job = imports.new_job(org, upload.filename or "roster", content, who.sub,
                                  current_app.extensions["gonghui.vault"])
        except domain.DomainError as exc:  # a workbook no worker should open (a zip bomb)
            raise ApiError(422, exc.message, {exc.field: [exc.message]}) from None
        return job_out(job)

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, JobPage)
    def get(self, args):
        """Imports into the caller's organisation and below, newest first."""
        who = caller()
        require_role(who, "operator", "admin")
        if who.org is None:
            return page(ImportJob.objects, args, job_out)
        return page(ImportJob.objects(org_path=who.org), args, job_out,
                    keep=scope.within(who.org, lambda job: job.org_path))


@blp.route("/<job_id>")
class ImportById(MethodView):
    @blp.response(200, JobSchema)
    def get(self, job_id):
        """Progress, counts and the error report (line number, field, reason)."""
        who = caller()
        require_role(who, "operator", "admin")
        return job_out(get_visible(ImportJob, job_id, _visible(who), "import"))


