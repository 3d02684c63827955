"""Organisations: the union tree (federation → ... → union group)."""
from __future__ import annotations

from bson import ObjectId
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from shared.scope import get_visible, require_role
from shared.web import ApiError, current_caller

from .. import domain
from ..documents import Organisation
from ..published import ORGANISATION_CREATED, organisation_created

blp = Blueprint("orgs", __name__, url_prefix="/api/v1/orgs", description="Organisations (组织)")


class OrgCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(domain.ORG_KINDS))
    parent_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))


class OrgSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    parent_id = fields.String(allow_none=True)
    path = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    created_at = fields.DateTime(required=True)


def org_out(org: Organisation) -> dict:
    return {"id": str(org.pk), "name": org.name, "kind": org.kind, "parent_id": org.parent_id,
            "path": list(org.path), "status": org.status, "created_at": org.created_at}


def visible_org(caller):
    def visible(org: Organisation) -> bool:
        if caller.has("operator") or caller.has("admin"):
            return caller.can_see(org.path)
        return str(org.pk) == caller.org  # a member sees its own organisation
    return visible


@blp.route("")
class Orgs(MethodView):
    @blp.arguments(OrgCreateSchema)
    @blp.response(201, OrgSchema)
    def post(self, body):
        """Create an organisation. Root federations need the operator role."""
        caller = current_caller(current_app.extensions["gonghui.settings"])
        require_role(caller, "operator", "admin")
        parent = None
        if body["parent_id"] is not None:
            parent = get_visible(Organisation, body["parent_id"], visible_org(caller), "parent organisation")
            if parent.status != "active":
                raise ApiError(422, "the parent organisation is closed", {"parent_id": ["Organisation is closed."]})
        elif not caller.has("operator"):
            raise ApiError(403, "only operators create root federations")
        try:
            domain.check_placement(body["kind"], parent.kind if parent else None)
        except domain.DomainError as exc:
            raise ApiError(422, exc.message, {exc.field: [exc.message]}) from exc
        org = Organisation(id=ObjectId(), name=body["name"].strip(), kind=body["kind"],
                           parent_id=str(parent.pk) if parent else None)
        org.path = domain.org_path(list(parent.path) if parent else None, str(org.pk))
        org.record(ORGANISATION_CREATED, organisation_created(org))
        org.save(force_insert=True)
        return org_out(org)


@blp.route("/<org_id>")
class OrgById(MethodView):
    @blp.response(200, OrgSchema)
    def get(self, org_id):
        """Read an organisation in the caller's scope."""
        caller = current_caller(current_app.extensions["gonghui.settings"])
        return org_out(get_visible(Organisation, org_id, visible_org(caller), "organisation"))
