"""Organisations: the union tree (federation → ... → union group)."""
from __future__ import annotations

import uuid
from datetime import datetime, time, timezone

from bson import ObjectId
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from shared.db import is_duplicate_key
from shared.events.envelope import utcnow
from shared.fields import Text
from shared.pagination import PageArgs, page, page_schema
from shared.scope import get_visible, require_role
from shared.web import ApiError

from .. import domain, tree
from ..documents import Cadre, Member, Organisation, OrgMove
from ..published import (
    ORGANISATION_CLOSED,
    ORGANISATION_CREATED,
    ORGANISATION_MOVED,
    ORGANISATION_UPDATED,
    organisation_closed,
    organisation_created,
    organisation_moved,
    organisation_updated,
)
from . import scope

blp = Blueprint("orgs", __name__, url_prefix="/api/v1/orgs", description="Organisations (组织)")

CREDIT_CODE = Text(validate=validate.Length(min=1, max=32),
                            metadata={"description": "Employer's unified social credit code (GB 32100-2015)"})


class OrgCreateSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(domain.ORG_KINDS))
    parent_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    credit_code = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=32))
    headcount = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=10_000_000))


class OrgUpdateSchema(Schema):
    name = Text(validate=validate.Length(min=1, max=200))
    credit_code = Text(validate=validate.Length(min=1, max=32))
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


def org_out(org: Organisation, with_move: bool = False) -> dict:
    out = {"id": str(org.pk), "name": org.name, "kind": org.kind, "parent_id": org.parent_id,
           "path": list(org.path), "status": org.status, "credit_code": org.credit_code,
           "headcount": org.headcount, "created_at": org.created_at, "updated_at": org.updated_at,
           "closed_at": org.closed_at, "version": org.version}
    move = OrgMove.objects(pk=org.move_id).first() if with_move and org.move_id else None
    if move is not None:
        out["move"] = {"id": str(move.pk), "state": move.state, "old_path": list(move.old_path),
                       "new_path": list(move.new_path), "requested_at": move.requested_at,
                       "finished_at": move.finished_at, "updated": dict(move.updated or {})}
    return out


def cadre_out(cadre: Cadre) -> dict:
    return {"id": cadre.id, "name": cadre.name, "role": cadre.role, "member_id": cadre.member_id,
            "term_start": cadre.term_start.date(), "term_end": cadre.term_end.date() if cadre.term_end else None}


def visible_org(caller):
    """Visibility by the current tree; the organisation's ``path`` is brought up to date in memory
    (it may lag behind a move of an organisation above it)."""
    def visible(org: Organisation) -> bool:
        org.path = scope.current_path(org.path) or list(org.path)
        if caller.has("operator") or caller.has("admin"):
            return caller.can_see(org.path)
        return str(org.pk) == caller.org  # a member sees its own organisation
    return visible


def subtree_root(org_id: str | None) -> Organisation:
    """The organisation a staff query covers: the one asked for, or the caller's own."""
    caller = _caller()
    require_role(caller, "operator", "admin")
    org_id = org_id or caller.org
    if org_id is None:
        raise ApiError(422, "org_id is required for operators", {"org_id": ["Missing data for required field."]})
    return get_visible(Organisation, org_id, visible_org(caller), "organisation")


_caller = scope.caller


def _staff_org(org_id: str, what: str = "organisation") -> Organisation:
    caller = _caller()
    require_role(caller, "operator", "admin")
    return get_visible(Organisation, org_id, visible_org(caller), what)


def _refuse(exc: domain.DomainError, status: int = 422):
    raise ApiError(status, exc.message, {exc.field: [exc.message]}) from exc


def _credit_code(value: str | None) -> str | None:
    try:
        return domain.validate_credit_code(value) if value is not None else None
    except domain.DomainError as exc:
        _refuse(exc)


def change_org(org: Organisation, event_type, build, **sets) -> Organisation:
    """Set ``sets`` and bump the version in one atomic write with the event
    ``build(org)`` makes, guarded by the version that was read."""
    for key, value in sets.items():
        setattr(org, key, value)
    org.version += 1
    org.updated_at = utcnow()
    try:
        applied = Organisation.update_with_event(
            org.pk, event_type, build(org), conditions={"version": org.version - 1}, set__version=org.version,
            set__updated_at=org.updated_at, **{f"set__{key}": value for key, value in sets.items()})
    except Exception as exc:
        if is_duplicate_key(exc):
            _credit_code_taken(sets.get("credit_code"))
        raise
    if not applied:
        raise ApiError(409, "the organisation changed meanwhile; read it again and retry", code="conflict")
    return org


def _credit_code_taken(code: str):
    raise ApiError(409, "another union organisation is already registered for this employer",
                   {"credit_code": ["Already registered."]}, code="already_registered")


@blp.route("")
class Orgs(MethodView):
    @blp.arguments(OrgCreateSchema)
    @blp.response(201, OrgSchema)
    def post(self, body):
        """Create an organisation. Root federations need the operator role."""
        caller = _caller()
        require_role(caller, "operator", "admin")
        parent = None
        if body["parent_id"] is not None:
            parent = get_visible(Organisation, body["parent_id"], visible_org(caller), "parent organisation")
            if parent.status != "active":
                raise ApiError(422, "the parent organisation is closed", {"parent_id": ["Organisation is closed."]})
        elif not caller.has("operator"):
            raise ApiError(403, "only operators create root federations")
        credit_code = _credit_code(body["credit_code"])
        try:
            domain.check_placement(body["kind"], parent.kind if parent else None)
            domain.check_employer_details(body["kind"], credit_code, body["headcount"])
        except domain.DomainError as exc:
            _refuse(exc)
        org = Organisation(id=ObjectId(), name=body["name"].strip(), kind=body["kind"],
                           parent_id=str(parent.pk) if parent else None, credit_code=credit_code,
                           headcount=body["headcount"])
        org.path = domain.org_path(list(parent.path) if parent else None, str(org.pk))
        org.record(ORGANISATION_CREATED, organisation_created(org))
        try:
            org.save(force_insert=True)
        except Exception as exc:
            if is_duplicate_key(exc):
                _credit_code_taken(credit_code)
            raise
        return org_out(org)


@blp.route("/<org_id>")
class OrgById(MethodView):
    @blp.response(200, OrgSchema)
    def get(self, org_id):
        """Read an organisation in the caller's scope, with the progress of its latest move."""
        return org_out(get_visible(Organisation, org_id, visible_org(_caller()), "organisation"), with_move=True)

    @blp.arguments(OrgUpdateSchema)
    @blp.response(200, OrgSchema)
    def patch(self, body, org_id):
        """Change the name, or a grassroots union's credit code or headcount."""
        org = _staff_org(org_id)
        changes = {k: v for k, v in body.items() if getattr(org, k) != v}
        if "credit_code" in changes:
            changes["credit_code"] = _credit_code(changes["credit_code"])
        if "name" in changes:
            changes["name"] = changes["name"].strip()
        if not changes:
            return org_out(org)
        if org.status != "active":
            raise ApiError(422, "a closed organisation cannot change", {"status": ["Organisation is closed."]})
        if org.kind != "grassroots" and ({"credit_code", "headcount"} & set(changes)):
            field = "credit_code" if "credit_code" in changes else "headcount"
            raise ApiError(422, f"only a grassroots union carries an employer's {field}", {field: ["Not allowed."]})
        change_org(org, ORGANISATION_UPDATED, lambda o: organisation_updated(o, list(changes)), **changes)
        return org_out(org)


@blp.route("/<org_id>/children")
class Children(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, OrgPage)
    def get(self, args, org_id):
        """The organisations directly below this one."""
        org = _staff_org(org_id)
        return page(Organisation.objects(parent_id=str(org.pk)), args, org_out)


@blp.route("/<org_id>/subtree")
class Subtree(MethodView):
    @blp.arguments(SubtreeArgs, location="query")
    @blp.response(200, OrgPage)
    def get(self, args, org_id):
        """This organisation and everything below it, newest first."""
        org = _staff_org(org_id)
        queryset = Organisation.objects(path=str(org.pk))
        for key in ("kind", "status"):
            if args.get(key):
                queryset = queryset.filter(**{key: args[key]})
        return page(queryset, args, org_out, keep=scope.within(str(org.pk), lambda o: o.path))


@blp.route("/<org_id>/move")
class Move(MethodView):
    @blp.arguments(MoveSchema)
    @blp.response(202, OrgSchema)
    def post(self, body, org_id):
        """Move an organisation and its whole subtree under another parent. Scope follows at once: from
        this answer on, only the new ancestors see the subtree. The worker then updates the copies of
        paths below it (members, transfers, dues, reviews, imports); ``move`` shows its progress."""
        caller = _caller()
        org = _staff_org(org_id)
        if str(org.pk) == caller.org:
            raise ApiError(403, "an admin cannot move the organisation it is bound to")
        parent = get_visible(Organisation, body["parent_id"], visible_org(caller), "parent organisation")
        if parent.status != "active" or org.status != "active":
            raise ApiError(422, "closed organisations cannot move", {"parent_id": ["Organisation is closed."]})
        try:
            domain.check_move(list(org.path), list(parent.path), org.kind, parent.kind)
        except domain.DomainError as exc:
            _refuse(exc)
        if org.parent_id == str(parent.pk):
            return org_out(org, with_move=True)
        old_path, new_path = list(org.path), domain.org_path(list(parent.path), str(org.pk))
        move = tree.start_move(str(org.pk), old_path, new_path, caller.sub)
        try:
            change_org(org, ORGANISATION_MOVED, lambda o: organisation_moved(o, old_path),
                       path=new_path, parent_id=str(parent.pk), move_id=str(move.pk))
        except Exception:
            move.delete()
            raise
        tree.bump_tree_version()
        return org_out(org, with_move=True)


@blp.route("/<org_id>/close")
class Close(MethodView):
    @blp.response(200, OrgSchema)
    def post(self, org_id):
        """Close an organisation with no active members and no open organisations below; history stays.
        Kept memberships (保留会籍) move to the union above, as the constitution provides."""
        org = _staff_org(org_id)
        if org.status == "closed":
            return org_out(org)
        if str(org.pk) == _caller().org:
            raise ApiError(403, "an admin cannot close the organisation it is bound to; the union above closes it")
        if tree.moves_following_within(str(org.pk)):
            raise ApiError(409, "a move into or out of this organisation's subtree is still being followed; "
                                "retry when it is done", code="move_in_progress")
        current = Member.objects(org_path=str(org.pk), status__in=["active", "suspended", "applicant"])
        try:  # counting stops at 100: the answer only has to say that members remain, and roughly how many
            domain.check_can_close(len(current.filter(kept_reason__exists=False).only("id").limit(100)))
        except domain.DomainError as exc:
            _refuse(exc)
        if Organisation.objects(path=str(org.pk), status="active", id__ne=org.pk).only("id").first():
            raise ApiError(422, "organisations below are still open", {"status": ["Close them first."]})
        kept = list(current.filter(kept_reason__exists=True).only("id"))
        if kept:
            parent = Organisation.objects(pk=org.parent_id).first() if org.parent_id else None
            if parent is None:
                raise ApiError(422, "kept memberships need a union above to move to", {"status": ["No parent."]})
            for member in kept:
                tree.move_member_to(member.pk, parent, _caller().sub, "kept_moved_up")
        change_org(org, ORGANISATION_CLOSED, organisation_closed, status="closed", closed_at=utcnow())
        tree.bump_tree_version()
        return org_out(org)


def _cadre_member(member_id: str, org: Organisation) -> None:
    member = Member.objects(pk=ObjectId(member_id) if ObjectId.is_valid(member_id) else None).only(
        "org_path", "status").first()
    if member is None or not scope.within(str(org.pk), lambda m: m.org_path)([member]):
        raise ApiError(404, "member not found in this organisation", {"member_id": ["No such member here."]})
    if member.status not in ("active", "suspended"):
        raise ApiError(422, "only a current member can be appointed", {"member_id": ["Not a current member."]})


@blp.route("/<org_id>/cadres")
class Cadres(MethodView):
    @blp.arguments(CadreArgs, location="query")
    @blp.response(200, CadreListSchema)
    def get(self, args, org_id):
        """The organisation's cadres (工会干部); by default those whose term runs today."""
        org = get_visible(Organisation, org_id, visible_org(_caller()), "organisation")
        today = datetime.combine(utcnow().date(), time(), tzinfo=timezone.utc)
        cadres = [c for c in org.cadres if not args["current"] or domain.is_current(c.term_start, c.term_end, today)]
        return {"items": [cadre_out(c) for c in sorted(cadres, key=lambda c: (domain.CADRE_ROLES.index(c.role),
                                                                              c.term_start))]}

    @blp.arguments(CadreSchema)
    @blp.response(201, CadreSchema)
    def post(self, body, org_id):
        """Appoint a cadre for a term; a cadre who is a member must be a member of this organisation's
        subtree."""
        org = _staff_org(org_id)
        if org.status != "active":
            raise ApiError(422, "a closed organisation cannot appoint cadres", {"status": ["Organisation is closed."]})
        if body["member_id"] is not None:
            _cadre_member(body["member_id"], org)
        if body["term_end"] is not None and body["term_end"] < body["term_start"]:
            raise ApiError(422, "the term ends before it starts", {"term_end": ["Before term_start."]})
        cadre = Cadre(id=uuid.uuid4().hex, name=body["name"].strip(), role=body["role"], member_id=body["member_id"],
                      term_start=datetime.combine(body["term_start"], time(), tzinfo=timezone.utc),
                      term_end=datetime.combine(body["term_end"], time(), tzinfo=timezone.utc)
                      if body["term_end"] else None)
        Organisation.objects(pk=org.pk).update_one(push__cadres=cadre, set__updated_at=utcnow())
        return cadre_out(cadre)
