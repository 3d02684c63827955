"""Members: registration, profile, status changes, history, search.
Personal data is masked in every response."""
from __future__ import annotations

import logging
import re

from bson import ObjectId
from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from mongoengine import NotUniqueError

from shared.events.envelope import utcnow
from shared.fields import Text
from shared.pagination import PageArgs, SortedPageArgs, page, page_schema, sorted_page
from shared.scope import get_visible, require_role
from shared.web import ApiError

from .. import domain
from ..documents import Counter, HistoryEntry, Member, Organisation, PiiAccess, RefusalBudget, UniquenessRefusal
from ..published import (
    CONTACT_CHANGED,
    MEMBER_APPLIED,
    MEMBER_JOINED,
    MEMBER_LEFT,
    MEMBER_STATUS_CHANGED,
    MEMBER_UPDATED,
    contact_changed,
    member_applied,
    member_joined,
    member_left,
    member_status_changed,
    member_updated,
)
from . import scope
from .orgs import subtree_root, visible_org

log = logging.getLogger(__name__)
blp = Blueprint("members", __name__, url_prefix="/api/v1/members", description="Members (会员)")


class MemberCreateSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    gender = fields.String(required=True, validate=validate.OneOf(domain.GENDERS))
    id_number = Text(required=True, validate=validate.Length(min=1, max=32))
    phone = Text(required=True, validate=validate.Length(min=1, max=20))
    org_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    employment_type = fields.String(required=True, validate=validate.OneOf(domain.EMPLOYMENT_TYPES))
    job = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    education = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=200))


class MemberUpdateSchema(Schema):
    name = Text(validate=validate.Length(min=1, max=100))
    gender = fields.String(validate=validate.OneOf(domain.GENDERS))
    phone = Text(validate=validate.Length(min=1, max=20))
    employment_type = fields.String(validate=validate.OneOf(domain.EMPLOYMENT_TYPES))
    job = fields.String(allow_none=True, validate=validate.Length(max=100))
    education = fields.String(allow_none=True, validate=validate.Length(max=50))
    email = fields.Email(allow_none=True, validate=validate.Length(max=200))
    honours = fields.List(fields.String(validate=validate.OneOf(domain.HONOURS)), validate=validate.Length(max=20))


class StatusChangeSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(["suspend", "resume", "leave", "keep",
                                                                   "deceased"]))
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "required for leave (voluntary, constitution_art5) and keep "
                                                    "(retired, unemployed, employer_closed)"})


class MemberSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    gender = fields.String(required=True)
    id_number = fields.String(required=True, metadata={"description": "Masked: 110***********123X"})
    phone = fields.String(required=True, metadata={"description": "Masked: 138****5678"})
    org_id = fields.String(required=True)
    org_path = fields.List(fields.String(), required=True)
    employment_type = fields.String(required=True)
    job = fields.String(allow_none=True)
    education = fields.String(allow_none=True)
    honours = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    kept = fields.Boolean(required=True)
    kept_reason = fields.String(allow_none=True)
    application_state = fields.String(allow_none=True)
    card_no = fields.String(allow_none=True)
    joined_at = fields.DateTime(allow_none=True)
    left_at = fields.DateTime(allow_none=True)
    version = fields.Integer(required=True)


class HistorySchema(Schema):
    at = fields.DateTime(required=True)
    action = fields.String(required=True)
    by = fields.String(required=True)
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    org_id = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    changed = fields.List(fields.String())


class HistoryListSchema(Schema):
    items = fields.List(fields.Nested(HistorySchema), required=True)


SORTS = {"-joined_at": ("joined_at", True, True), "joined_at": ("joined_at", False, True),
         "name": ("name", False, False), "-name": ("name", True, False)}


class SearchArgs(SortedPageArgs):
    org_id = fields.String(validate=validate.Length(min=1, max=64),
                           metadata={"description": "subtree to search; default: the caller's organisation"})
    name = Text(validate=validate.Length(min=1, max=100), metadata={"description": "name prefix"})
    card_no = Text(validate=validate.Length(min=1, max=32))
    status = fields.String(validate=validate.OneOf(domain.MEMBER_STATUSES))
    employment_type = fields.String(validate=validate.OneOf(domain.EMPLOYMENT_TYPES))
    gender = fields.String(validate=validate.OneOf(domain.GENDERS))
    sort = fields.String(load_default="-joined_at", validate=validate.OneOf(list(SORTS)))


MemberPage = page_schema(MemberSchema, "MemberPage")


def member_out(member: Member) -> dict:
    return {"id": str(member.pk), "name": member.name, "gender": member.gender,
            "id_number": member.id_number_masked, "phone": member.phone_masked,
            "org_id": member.org_id, "org_path": list(member.org_path),
            "employment_type": member.employment_type, "job": member.job, "education": member.education,
            "honours": list(member.honours or []),
            "status": member.status, "kept": bool(member.kept_reason), "kept_reason": member.kept_reason,
            "application_state": member.application_state, "card_no": member.card_no,
            "joined_at": member.joined_at, "left_at": member.left_at, "version": member.version}


def visible_member(caller):
    def visible(member: Member) -> bool:
        if caller.acts_as_member(str(member.pk)):
            return True
        return (caller.has("operator") or caller.has("admin")) and scope.sees(caller, member.org_path)
    return visible


def refuse(exc: domain.DomainError, status: int = 422):
    raise ApiError(status, exc.message, {exc.field: [exc.message]}) from exc


caller = scope.caller


def staff_member(member_id: str) -> Member:
    who = caller()
    require_role(who, "operator", "admin")
    return get_visible(Member, member_id, visible_member(who), "member")


def target_org(org_id: str, who) -> Organisation:
    org = Organisation.objects(pk=ObjectId(org_id) if ObjectId.is_valid(org_id) else None).first()
    if org is None or not visible_org(who)(org):
        raise ApiError(404, "organisation not found", {"org_id": ["No such organisation."]})
    try:
        domain.check_can_hold_members(org.kind, org.status)
    except domain.DomainError as exc:
        refuse(exc)
    return org


def new_member(body: dict, org: Organisation, status: str, who) -> Member:
    """A Member built from validated input, personal data encrypted and masked."""
    vault = current_app.extensions["gonghui.vault"]
    try:
        birth = domain.validate_id_number(body["id_number"])
        phone = domain.validate_phone(body["phone"])
    except domain.DomainError as exc:
        refuse(exc)
    id_number = domain.normalise_id_number(body["id_number"])
    now = utcnow()
    member = Member(
        id=ObjectId(), name=body["name"].strip(), gender=body["gender"],
        birth_year=birth.year,
        id_number_fingerprint=vault.fingerprint(id_number), id_number_encrypted=vault.encrypt(id_number),
        id_number_masked=domain.mask_id_number(id_number),
        phone_encrypted=vault.encrypt(phone), phone_masked=domain.mask_phone(phone),
        org_id=str(org.pk), org_path=list(org.path), employment_type=body["employment_type"],
        email_encrypted=vault.encrypt(body["email"]) if body.get("email") else None,
        job=body.get("job"), education=body.get("education"), status=status, created_at=now,
        history=[HistoryEntry(at=now, action="register" if status == "active" else "apply", by=who.sub,
                              to_status=status, org_id=str(org.pk))],
    )
    member.record(CONTACT_CHANGED, contact_changed(member, phone, body.get("email"),
                                                   current_app.extensions["gonghui.contact_seal"]))
    return member


def insert_member(member: Member, who, org: Organisation, body: dict) -> Member:
    """Store a new registration or application; a person who left comes back instead (``rejoin``).
    Returns the member as stored."""
    _refusal_budget(who, spend=False)
    try:
        member.save(force_insert=True)
        return member
    except NotUniqueError:  # the unique index on the fingerprint decides, even between racing requests
        back = rejoin(member, who, org, body)
        if back is not None:
            return back
        refuse_duplicate(member.id_number_fingerprint, who)
        raise


REJOINED_FIELDS = ("org_id", "org_path", "status", "name", "gender", "employment_type", "job", "education",
                   "phone_encrypted", "phone_masked", "email_encrypted", "application_state", "card_no", "joined_at")


def rejoin(fresh: Member, who, org: Organisation, body: dict) -> Member | None:
    """A person who left the union registers or applies again: the same record, card number and history
    come back, with the new organisation and details (None if the person has not left)."""
    member = Member.objects(id_number_fingerprint=fresh.id_number_fingerprint).first()
    if member is None or member.status != "left":
        return None
    joining = fresh.status == "active"
    if joining and member.card_no:
        fresh.card_no = member.card_no  # the card number is the person's for life; the fresh one stays unused
    sets = {key: getattr(fresh, key) for key in REJOINED_FIELDS
            if joining or key not in ("card_no", "joined_at")}  # an applicant keeps its card until approved
    phone, seal = domain.validate_phone(body["phone"]), current_app.extensions["gonghui.contact_seal"]
    events = [(MEMBER_JOINED, lambda m: member_joined(m, org)) if joining else (MEMBER_APPLIED, member_applied),
              (CONTACT_CHANGED, lambda m: contact_changed(m, phone, body.get("email"), seal))]
    return apply_change(member, who, "rejoin" if joining else "reapply", events, changed=sorted(sets),
                        kept_reason=None, left_at=None, **sets)


def _refusal_budget(who, spend: bool) -> None:
    """A caller told "already registered elsewhere" more than ``refusals_per_hour`` times this hour gets
    429 for any registration until the hour ends, so that the answer cannot test ID numbers in bulk.
    The count is shared (atomic); each process remembers the callers it has seen go over it, so the
    check before a registration costs no query."""
    hour = utcnow().strftime("%Y-%m-%dT%H")
    key = f"{who.sub}:{hour}"
    exhausted = current_app.extensions.setdefault("gonghui.refusals_exhausted", set())
    if spend and key not in exhausted:
        budget = RefusalBudget._get_collection().find_one_and_update(
            {"_id": key}, {"$inc": {"n": 1}}, upsert=True, return_document=True)
        if budget["n"] > current_app.extensions["gonghui.settings"].refusals_per_hour:
            exhausted.difference_update({k for k in exhausted if not k.endswith(hour)})  # past hours
            exhausted.add(key)
    if key in exhausted:
        raise ApiError(429, "too many registrations of people already registered; try again next hour",
                       code="too_many_requests")


def issue_card(member: Member) -> None:
    now = utcnow()
    member.card_no = domain.card_number(now.year, Counter.next("card_no"))
    member.joined_at = now


def refuse_duplicate(fingerprint: str, who) -> None:
    existing = Member.objects(id_number_fingerprint=fingerprint).only("id", "org_path").first()
    if existing is None:
        return
    if visible_member(who)(existing):  # the caller's own member: nothing is told that it cannot read
        message = f"this ID number is already registered as member {existing.pk}"
    else:  # all the caller learns is "registered somewhere": recorded, and rationed
        UniquenessRefusal(by=who.sub, by_org=who.org, request_id=g.get("request_id"), at=utcnow()).save()
        log.warning("registration refused: ID number registered outside the caller's scope", extra={"by": who.sub})
        _refusal_budget(who, spend=True)
        message = "this ID number is already registered with another union organisation"
    raise ApiError(409, message, {"id_number": [message]}, code="already_registered")


def apply_change(member: Member, who, action: str, events, reason: str | None = None,
                 changed: list[str] | None = None, **sets) -> Member:
    """Set ``sets`` on the member, append history and events, all in one
    atomic write guarded by the version that was read."""
    from_status = member.status
    for key, value in sets.items():
        setattr(member, key, value)
    member.version += 1
    entry = HistoryEntry(at=utcnow(), action=action, by=who.sub, from_status=from_status, to_status=member.status,
                         org_id=member.org_id, reason=reason, changed=changed or [])
    applied = Member.update_with_events(
        member.pk, [(event_type, build(member)) for event_type, build in events],
        conditions={"version": member.version - 1}, push__history=entry, set__version=member.version,
        **{f"set__{key}": value for key, value in sets.items()})
    if not applied:
        raise ApiError(409, "the member changed meanwhile; read it again and retry", code="conflict")
    member.history.append(entry)
    return member


@blp.route("")
class Members(MethodView):
    @blp.arguments(MemberCreateSchema)
    @blp.response(201, MemberSchema)
    def post(self, body):
        """Register an active member (staff registration) and issue a card number."""
        who = caller()
        require_role(who, "operator", "admin")
        org = target_org(body["org_id"], who)
        member = new_member(body, org, "active", who)
        issue_card(member)
        member.record(MEMBER_JOINED, member_joined(member, org))
        return member_out(insert_member(member, who, org, body))

    @blp.arguments(SearchArgs, location="query")
    @blp.response(200, MemberPage)
    def get(self, args):
        """Search members in a subtree: name prefix, card number, status, employment type, gender."""
        org = subtree_root(args.get("org_id"))
        queryset = Member.objects(org_path=str(org.pk))
        for key in ("card_no", "status", "employment_type", "gender"):
            if args.get(key):
                queryset = queryset.filter(**{key: args[key]})
        if args.get("name"):
            queryset = queryset.filter(__raw__={"name": {"$regex": "^" + re.escape(args["name"].strip())}})
        field, descending, is_datetime = SORTS[args["sort"]]
        if field == "joined_at":
            queryset = queryset.filter(joined_at__exists=True)
        return sorted_page(queryset, args, member_out, field, descending, is_datetime,
                           keep=scope.within(str(org.pk), lambda m: m.org_path))


@blp.route("/<member_id>")
class MemberById(MethodView):
    @blp.response(200, MemberSchema)
    def get(self, member_id):
        """Read a member: an admin of its branch (or above), or the member itself."""
        return member_out(get_visible(Member, member_id, visible_member(caller()), "member"))

    @blp.arguments(MemberUpdateSchema)
    @blp.response(200, MemberSchema)
    def patch(self, body, member_id):
        """Update a member's profile (staff)."""
        who = caller()
        member = staff_member(member_id)
        if member.status in ("left", "deceased"):
            raise ApiError(422, f"a member whose status is {member.status} cannot change",
                           {"status": ["Not changeable."]})
        vault = current_app.extensions["gonghui.vault"]
        sets, changed = {}, []
        phone = vault.decrypt(member.phone_encrypted)
        email = vault.decrypt(member.email_encrypted) if member.email_encrypted else None
        if "phone" in body:
            try:
                new_phone = domain.validate_phone(body.pop("phone"))
            except domain.DomainError as exc:
                refuse(exc)
            if new_phone != phone:
                phone = new_phone
                sets.update(phone_encrypted=vault.encrypt(phone), phone_masked=domain.mask_phone(phone))
                changed.append("phone")
        if "email" in body:
            new_email = body.pop("email")
            if new_email != email:
                email = new_email
                sets["email_encrypted"] = vault.encrypt(email) if email else None
                changed.append("email")
        if "honours" in body:
            body["honours"] = sorted(set(body["honours"]))
        for key, value in body.items():
            value = value.strip() if isinstance(value, str) else value
            if (list(getattr(member, key) or []) if key == "honours" else getattr(member, key)) != value:
                sets[key] = value
                changed.append(key)
        if not changed:
            return member_out(member)
        events = [(MEMBER_UPDATED, lambda m: member_updated(m, changed))]
        if {"phone", "email"} & set(changed):
            seal = current_app.extensions["gonghui.contact_seal"]
            events.append((CONTACT_CHANGED, lambda m: contact_changed(m, phone, email, seal)))
        apply_change(member, who, "update", events, changed=changed, **sets)
        return member_out(member)


@blp.route("/<member_id>/status")
class Status(MethodView):
    @blp.arguments(StatusChangeSchema)
    @blp.response(200, MemberSchema)
    def post(self, body, member_id):
        """Suspend, resume, leave (退会), keep the membership (保留会籍) or record a death."""
        who = caller()
        member = staff_member(member_id)
        action, reason = body["action"], body["reason"]
        try:
            target = domain.next_status(action, member.status, kept=bool(member.kept_reason))
        except domain.DomainError as exc:
            refuse(exc)
        sets = {"status": target}
        if action == "keep":
            if reason not in domain.KEPT_REASONS:
                raise ApiError(422, "a kept membership needs its reason",
                               {"reason": [f"Must be one of: {', '.join(domain.KEPT_REASONS)}."]})
            sets["kept_reason"] = reason
        if action == "leave":
            if reason not in domain.LEAVE_REASONS:
                raise ApiError(422, "leaving needs its reason",
                               {"reason": [f"Must be one of: {', '.join(domain.LEAVE_REASONS)}."]})
            sets["left_at"] = utcnow()
        from_status = member.status
        events = [(MEMBER_STATUS_CHANGED, lambda m: member_status_changed(m, action, from_status, reason))]
        if action == "leave":
            events.append((MEMBER_LEFT, lambda m: member_left(m, reason)))
        apply_change(member, who, action, events, reason=reason, **sets)
        return member_out(member)


class PersonalDataSchema(Schema):
    id_number = fields.String(required=True)
    phone = fields.String(required=True)
    email = fields.String(allow_none=True)


class PersonalDataReadSchema(Schema):
    fields_ = fields.List(fields.String(), required=True, data_key="fields")
    by = fields.String(required=True)
    by_org = fields.String(allow_none=True)
    at = fields.DateTime(required=True)


PersonalDataReadPage = page_schema(PersonalDataReadSchema, "PersonalDataReadPage")


def personal_data_reader(member_id: str) -> tuple:
    """The member itself, or staff bound to its branch or above; never an operator, who runs the
    platform but has no business with members' personal data (PIPL)."""
    who = caller()
    if not who.acts_as_member(member_id) and (not who.has("admin") or who.org is None):
        raise ApiError(403, "personal data in clear is for the member and the staff of its branch or above")
    return who, get_visible(Member, member_id, visible_member(who), "member")


@blp.route("/<member_id>/personal-data")
class PersonalData(MethodView):
    @blp.response(200, PersonalDataSchema)
    def get(self, member_id):
        """The member's ID number, phone and email in clear, for the member itself and the staff of its
        branch (or above). Every read is recorded (who, when, which member; never the values)."""
        who, member = personal_data_reader(member_id)
        vault = current_app.extensions["gonghui.vault"]
        PiiAccess(member_id=str(member.pk), fields=["id_number", "phone", "email"], by=who.sub, by_org=who.org,
                  request_id=g.get("request_id"), at=utcnow()).save()
        log.info("personal data read", extra={"member_id": str(member.pk), "by": who.sub})
        return {"id_number": vault.decrypt(member.id_number_encrypted), "phone": vault.decrypt(member.phone_encrypted),
                "email": vault.decrypt(member.email_encrypted) if member.email_encrypted else None}


@blp.route("/<member_id>/personal-data/reads")
class PersonalDataReads(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, PersonalDataReadPage)
    def get(self, args, member_id):
        """Who has read the member's personal data in clear, and when, newest first (PIPL art. 45:
        the member may see it, as may the staff of its branch or above)."""
        _, member = personal_data_reader(member_id)
        return page(PiiAccess.objects(member_id=str(member.pk)), args,
                    lambda r: {"fields_": list(r.fields), "by": r.by, "by_org": r.by_org, "at": r.at})


@blp.route("/<member_id>/history")
class History(MethodView):
    @blp.response(200, HistoryListSchema)
    def get(self, member_id):
        """Every change in the member's life, oldest first (the member itself may read it too)."""
        member = get_visible(Member, member_id, visible_member(caller()), "member")
        return {"items": [{key: getattr(entry, key) for key in HistorySchema._declared_fields}
                          for entry in member.history]}
