"""Members: registration and reading, personal data masked by default."""
from __future__ import annotations

from datetime import datetime, time, timezone

from bson import ObjectId
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from mongoengine import NotUniqueError

from shared.events.envelope import utcnow
from shared.scope import get_visible, require_role
from shared.web import ApiError, current_caller

from .. import domain
from ..documents import Counter, Member, Organisation
from ..published import MEMBER_JOINED, member_joined
from .orgs import visible_org

blp = Blueprint("members", __name__, url_prefix="/api/v1/members", description="Members (会员)")


class MemberCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    gender = fields.String(required=True, validate=validate.OneOf(domain.GENDERS))
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=32))
    phone = fields.String(required=True, validate=validate.Length(min=1, max=20))
    org_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    employment_type = fields.String(required=True, validate=validate.OneOf(domain.EMPLOYMENT_TYPES))


class MemberSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    gender = fields.String(required=True)
    id_number = fields.String(required=True, metadata={"description": "Masked: 110***********123X"})
    phone = fields.String(required=True, metadata={"description": "Masked: 138****5678"})
    org_id = fields.String(required=True)
    org_path = fields.List(fields.String(), required=True)
    employment_type = fields.String(required=True)
    status = fields.String(required=True)
    card_no = fields.String(allow_none=True)
    joined_at = fields.DateTime(allow_none=True)


def member_out(member: Member) -> dict:
    return {"id": str(member.pk), "name": member.name, "gender": member.gender,
            "id_number": member.id_number_masked, "phone": member.phone_masked,
            "org_id": member.org_id, "org_path": list(member.org_path),
            "employment_type": member.employment_type, "status": member.status,
            "card_no": member.card_no, "joined_at": member.joined_at}


def visible_member(caller):
    def visible(member: Member) -> bool:
        if caller.acts_as_member(str(member.pk)):
            return True
        return (caller.has("operator") or caller.has("admin")) and caller.can_see(member.org_path)
    return visible


def _refuse(exc: domain.DomainError, status: int = 422):
    raise ApiError(status, exc.message, {exc.field: [exc.message]}) from exc


@blp.route("")
class Members(MethodView):
    @blp.arguments(MemberCreateSchema)
    @blp.response(201, MemberSchema)
    def post(self, body):
        """Register an active member (staff registration) and issue a card number."""
        settings = current_app.extensions["gonghui.settings"]
        vault = current_app.extensions["gonghui.vault"]
        caller = current_caller(settings)
        require_role(caller, "operator", "admin")
        org = Organisation.objects(pk=_object_id_or_none(body["org_id"])).first()
        if org is None or not visible_org(caller)(org):
            raise ApiError(404, "organisation not found", {"org_id": ["No such organisation."]})
        try:
            domain.check_can_hold_members(org.kind, org.status)
            birth = domain.validate_id_number(body["id_number"])
            phone = domain.validate_phone(body["phone"])
        except domain.DomainError as exc:
            _refuse(exc)
        id_number = domain.normalise_id_number(body["id_number"])
        fingerprint = vault.fingerprint(id_number)
        now = utcnow()
        member = Member(
            id=ObjectId(), name=body["name"].strip(), gender=body["gender"],
            birth_date=datetime.combine(birth, time(), tzinfo=timezone.utc),
            id_number_fingerprint=fingerprint, id_number_encrypted=vault.encrypt(id_number),
            id_number_masked=domain.mask_id_number(id_number),
            phone_encrypted=vault.encrypt(phone), phone_masked=domain.mask_phone(phone),
            org_id=str(org.pk), org_path=list(org.path), employment_type=body["employment_type"],
            status="active", card_no=domain.card_number(now.year, Counter.next("card_no")), joined_at=now,
        )
        member.record(MEMBER_JOINED, member_joined(member, org))
        try:
            member.save(force_insert=True)
        except NotUniqueError:  # the unique index on the fingerprint decides, even between racing requests
            _refuse_duplicate(fingerprint, caller)
            raise
        return member_out(member)


@blp.route("/<member_id>")
class MemberById(MethodView):
    @blp.response(200, MemberSchema)
    def get(self, member_id):
        """Read a member: an admin of its branch (or above), or the member itself."""
        caller = current_caller(current_app.extensions["gonghui.settings"])
        return member_out(get_visible(Member, member_id, visible_member(caller), "member"))


def _object_id_or_none(value: str):
    return ObjectId(value) if ObjectId.is_valid(value) else None


def _refuse_duplicate(fingerprint: str, caller) -> None:
    existing = Member.objects(id_number_fingerprint=fingerprint).only("id", "org_path").first()
    if existing is None:
        return
    if visible_member(caller)(existing):
        message = f"this ID number is already registered as member {existing.pk}"
    else:
        message = "this ID number is already registered with another union organisation"
    raise ApiError(409, message, {"id_number": [message]}, code="already_registered")
