"""Roster imports (会员名册导入): staff upload a roster for an organisation; the worker imports it
(services/members/imports.py); staff follow the job in their subtree."""
from __future__ import annotations

from typing import BinaryIO

from shared.errors import Refused, TooLarge
from shared.scope import get_visible, require_role

from .. import domain, imports
from ..documents import ImportJob
from . import access
from .context import Context, Found


def upload(ctx: Context, org_id: str, filename: str | None, file: BinaryIO) -> ImportJob:
    """Queue a roster (CSV or XLSX, read from ``file``, at most ``imports.MAX_FILE_BYTES``) for the
    worker to import into the organisation (staff of it or above). The file is kept encrypted. What
    is in it (an empty file included) is the job's to report, as for any file that cannot be read."""
    require_role(ctx.who, "operator", "admin")
    org = access.org(ctx, org_id)
    content = file.read(imports.MAX_FILE_BYTES + 1)
    if len(content) > imports.MAX_FILE_BYTES:
        raise TooLarge(f"the file is larger than {imports.MAX_FILE_BYTES // 2**20} MiB")
    try:
        return imports.new_job(org, filename or "roster", content, ctx.who.sub, ctx.vault)
    except domain.DomainError as exc:  # a workbook no worker should open (a zip bomb)
        raise Refused.on(exc.field, exc.message) from None


def listing(ctx: Context) -> Found:
    """Imports into the caller's organisation and below (every import for an operator bound to none)."""
    require_role(ctx.who, "operator", "admin")
    if ctx.who.org is None:
        return Found(ImportJob.objects, None)
    return Found(ImportJob.objects(org_path=ctx.who.org), access.within(ctx, ctx.who.org, lambda job: job.org_path))


def job(ctx: Context, job_id: str) -> ImportJob:
    """An import's progress, counts and error report (staff of its organisation or above)."""
    require_role(ctx.who, "operator", "admin")
    return get_visible(ImportJob, job_id, lambda j: access.sees(ctx, j.org_path), "import")
