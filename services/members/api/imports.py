"""Roster imports over HTTP: upload a CSV or XLSX file, then follow the job."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from werkzeug.datastructures import CombinedMultiDict

from shared.blueprint import Blueprint, SchemaOnceParser
from shared.pagination import PageArgs, page, page_schema

from .. import imports
from ..app import imports as use_cases
from ..documents import ImportJob
from .scope import context


class _FormAndFiles(SchemaOnceParser):
    """A multipart form read as one: its fields and its files, so that one schema documents and
    validates the whole upload (flask-smorest documents one request body per operation)."""

    def load_form(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class _RosterBlueprint(Blueprint):
    ARGUMENTS_PARSER = _FormAndFiles()


blp = _RosterBlueprint("imports", __name__, url_prefix="/api/v1/imports",
                       description="Roster imports (会员名册导入)")


class UploadSchema(Schema):
    org_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
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


@blp.before_request
def _room_for_rosters():
    """Rosters are the one upload allowed past the platform's 2 MiB body limit (multipart adds a little)."""
    request.max_content_length = imports.MAX_FILE_BYTES + 2**20


@blp.route("")
class Imports(MethodView):
    @blp.arguments(UploadSchema, location="form", content_type="multipart/form-data")
    @blp.response(202, JobSchema)
    def post(self, form):
        """Upload a roster (CSV in UTF-8 or GB18030, or XLSX; headers in Chinese or English) for an
        organisation. The worker imports it; follow the job for progress and the error report. At most
        64 MiB, a header and 200,000 rows, the first 64 columns; the file is kept encrypted, and only
        until its import ends (24 h at most)."""
        upload = form["file"]
        return job_out(use_cases.upload(context(), form["org_id"], upload.filename, upload))

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, JobPage)
    def get(self, args):
        """Imports into the caller's organisation and below, newest first."""
        found = use_cases.listing(context())
        return page(found.rows, args, job_out, keep=found.keep)


@blp.route("/<job_id>")
class ImportById(MethodView):
    @blp.response(200, JobSchema)
    def get(self, job_id):
        """Progress, counts and the error report (line number, field, reason)."""
        return job_out(use_cases.job(context(), job_id))
