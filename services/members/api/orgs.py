"""Organisations: the union tree (federation → ... → union group)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.fields import Text
from shared.pagination import PageArgs, page, page_schema

from .. import domain
from ..app import access, orgs
from ..documents import Cadre, Organisation, OrgMove
from .scope import context

blp = Blueprint("orgs", __name__, url_prefix="/api/v1/orgs", description="Organisations (组织)")

CREDIT_CODE = {"pattern": domain.CREDIT_CODE_PATTERN, "format": "gb32100",
               "description": "the employer's unified social credit code (GB 32100-2015): 18 characters, "
                              "positions 3-8 an administrative division, the last a check character"}


class OrgCreateSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(domain.ORG_KINDS))
    parent_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    credit_code = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=32),
                       metadata=CREDIT_CODE)
    headcount = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=10_000_000))


class OrgUpdateSchema(Schema):
    name = Text(validate=validate.Length(min=1, max=200))
    credit_code = Text(validate=validate.Length(min=1, max=32), metadata=CREDIT_CODE)
    headcount = fields.Integer(validate=validate.Range(min=0, max=10_000_000))


class MoveSchema(Schema):
    parent_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class CadreSchema(Schema):
    id = fields.String(dump_only=True)
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    role = fields.String(required=True, validate=validate.OneOf(domain.CADRE_ROLES))
    member_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    term_start = fields.Date(required=True)
    term_end = fields.Date(load_default=None, allow_none=True)


class CadreListSchema(Schema):
    items = fields.List(fields.Nested(CadreSchema), required=True)


class CadreArgs(Schema):
    current = fields.Boolean(load_default=True, metadata={"description": "only terms running today"})


class MoveStateSchema(Schema):
    id = fields.String(required=True)
    state = fields.String(required=True, metadata={"description": "following: copies of paths below are "
                                                                  "still being updated; done"})
    old_path = fields.List(fields.String(), required=True)
    new_path = fields.List(fields.String(), required=True)
    requested_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)
    updated = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                          metadata={"description": "records brought up to date so far, per kind"})


class OrgSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    parent_id = fields.String(allow_none=True)
    path = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    credit_code = fields.String(allow_none=True)
    headcount = fields.Integer(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    version = fields.Integer(required=True)
    move = fields.Nested(MoveStateSchema, allow_none=True,
                         metadata={"description": "the latest move (read of one organisation only)"})


class SubtreeArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf(domain.ORG_KINDS))
    status = fields.String(validate=validate.OneOf(domain.ORG_STATUSES))


OrgPage = page_schema(OrgSchema, "OrgPage")


def org_out(org: Organisation, move: OrgMove | None = None) -> dict:
    out = {"id": str(org.pk), "name": org.name, "kind": org.kind, "parent_id": org.parent_id,
           "path": list(org.path), "status": org.status, "credit_code": org.credit_code,
           "headcount": org.headcount, "created_at": org.created_at, "updated_at": org.updated_at,
           "closed_at": org.closed_at, "version": org.version}
    if move is not None:
        out["move"] = {"id": str(move.pk), "state": move.state, "old_path": list(move.old_path),
                       "new_path": list(move.new_path), "requested_at": move.requested_at,
                       "finished_at": move.finished_at, "updated": dict(move.updated or {})}
    return out


def cadre_out(cadre: Cadre) -> dict:
    return {"id": cadre.id, "name": cadre.name, "role": cadre.role, "member_id": cadre.member_id,
            "term_start": cadre.term_start.date(), "term_end": cadre.term_end.date() if cadre.term_end else None}


@blp.route("")
class Orgs(MethodView):
    @blp.arguments(OrgCreateSchema)
    @blp.response(201, OrgSchema)
    def post(self, body):
        """Create an organisation. Root federations need the operator role."""
        return org_out(orgs.create(context(), body["name"], body["kind"], body["parent_id"], body["credit_code"],
                                   body["headcount"]))


@blp.route("/<org_id>")
class OrgById(MethodView):
    @blp.response(200, OrgSchema)
    def get(self, org_id):
        """Read an organisation in the caller's scope, with the progress of its latest move."""
        org = access.org(context(), org_id)
        return org_out(org, orgs.latest_move(org))

    @blp.arguments(OrgUpdateSchema)
    @blp.response(200, OrgSchema)
    def patch(self, body, org_id):
        """Change the name, or a grassroots union's credit code or headcount."""
        return org_out(orgs.update(context(), org_id, body))


@blp.route("/<org_id>/children")
class Children(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, OrgPage)
    def get(self, args, org_id):
        """The organisations directly below this one."""
        return page(orgs.children(context(), org_id), args, org_out)


@blp.route("/<org_id>/subtree")
class Subtree(MethodView):
    @blp.arguments(SubtreeArgs, location="query")
    @blp.response(200, OrgPage)
    def get(self, args, org_id):
        """This organisation and everything below it, newest first."""
        found = orgs.subtree(context(), org_id, args.get("kind"), args.get("status"))
        return page(found.rows, args, org_out, keep=found.keep)


@blp.route("/<org_id>/move")
class Move(MethodView):
    @blp.arguments(MoveSchema)
    @blp.response(202, OrgSchema)
    def post(self, body, org_id):
        """Move an organisation and its whole subtree under another parent. Scope follows at once: from
        this answer on, only the new ancestors see the subtree. The worker then updates the copies of
        paths below it (members, transfers, dues, reviews, imports); ``move`` shows its progress."""
        moved = orgs.move(context(), org_id, body["parent_id"])
        return org_out(moved, orgs.latest_move(moved))


@blp.route("/<org_id>/close")
class Close(MethodView):
    @blp.response(200, OrgSchema)
    def post(self, org_id):
        """Close an organisation with no active members and no open organisations below; history stays.
        Kept memberships (保留会籍) move to the union above, as the constitution provides."""
        return org_out(orgs.close(context(), org_id))


@blp.route("/<org_id>/cadres")
class Cadres(MethodView):
    @blp.arguments(CadreArgs, location="query")
    @blp.response(200, CadreListSchema)
    def get(self, args, org_id):
        """The organisation's cadres (工会干部); by default those whose term runs today."""
        return {"items": [cadre_out(c) for c in orgs.cadres(context(), org_id, args["current"])]}

    @blp.arguments(CadreSchema)
    @blp.response(201, CadreSchema)
    def post(self, body, org_id):
        """Appoint a cadre for a term; a cadre who is a member must be a member of this organisation's
        subtree."""
        return cadre_out(orgs.appoint(context(), org_id, body["name"], body["role"], body["member_id"],
                                      body["term_start"], body["term_end"]))
