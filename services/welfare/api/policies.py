"""Per-organisation policy for assistance and the hardship registry."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint

from ..app import policies
from ..domain.assistance import KINDS
from ..domain.condolences import LIFE_EVENTS
from .common import fen
from .scope import context

blp = Blueprint("policies", __name__, url_prefix="/api/v1/policies",
                description="What an organisation decided for assistance and hardship files below it")


class CapsSchema(Schema):
    living_subsidy = fen(required=False)
    medical_aid = fen(required=False)
    education_grant = fen(required=False)
    emergency_aid = fen(required=False)


class PolicyInSchema(Schema):
    branch_limit_fen = fen(description="above it, the level above the branch approves an application")
    caps = fields.Nested(CapsSchema, load_default=dict, metadata={"description": "fen per member, kind and year"})
    notice_days = fields.Integer(required=True, validate=validate.Range(min=1, max=30),
                                 metadata={"description": "days a hardship file stays on public notice (公示)"})


class PolicySchema(Schema):
    org_id = fields.String(required=True)
    set_by_org_id = fields.String(allow_none=True, metadata={"description": "where it comes from (None: defaults)"})
    branch_limit_fen = fields.Integer(required=True)
    caps = fields.Dict(keys=fields.String(validate=validate.OneOf(KINDS)), values=fields.Integer(), required=True)
    notice_days = fields.Integer(required=True)


def policy_out(org_id, found) -> dict:
    policy, source = found
    return {"org_id": org_id, "set_by_org_id": source, "branch_limit_fen": policy.branch_limit_fen,
            "caps": dict(policy.caps), "notice_days": policy.notice_days}


@blp.route("/<org_id>")
class PolicyOf(MethodView):
    @blp.response(200, PolicySchema)
    def get(self, org_id):
        """The policy in force for an organisation (its own, its nearest ancestor's, or the defaults)."""
        return policy_out(org_id, policies.read(context(), org_id))

    @blp.arguments(PolicyInSchema)
    @blp.response(200, PolicySchema)
    def put(self, body, org_id):
        """Staff of a level above the organisation set its policy (a branch does not raise its own limit)."""
        return policy_out(org_id, policies.put(context(), org_id, body["branch_limit_fen"], body["caps"],
                                               body["notice_days"]))


class ScheduleSchema(Schema):
    marriage = fen(required=False, minimum=0)
    childbirth = fen(required=False, minimum=0)
    hospitalisation = fen(required=False, minimum=0)
    retirement = fen(required=False, minimum=0)
    bereavement = fen(required=False, minimum=0)


class ScheduleInSchema(Schema):
    amounts = fields.Nested(ScheduleSchema, required=True,
                            metadata={"description": "fen per life event (0: not paid; missing: the default)"})


class ScheduleOutSchema(Schema):
    org_id = fields.String(required=True)
    set_by_org_id = fields.String(allow_none=True, metadata={"description": "where it comes from (None: defaults)"})
    amounts = fields.Dict(keys=fields.String(validate=validate.OneOf(LIFE_EVENTS)), values=fields.Integer(),
                          required=True)


class SchemeInSchema(Schema):
    rate_percent = fields.Integer(required=True, validate=validate.Range(min=1, max=100),
                                  metadata={"description": "of the expenses above the deductible"})
    deductible_fen = fen(minimum=0, description="per claim, integer fen")
    cap_fen = fen(description="per member and year, integer fen")
    contribution_fen = fen(description="a member's yearly contribution, integer fen")


class SchemeSchema(Schema):
    org_id = fields.String(required=True)
    set_by_org_id = fields.String(allow_none=True, metadata={"description": "the organisation running the scheme "
                                                                            "(None: none covers it)"})
    rate_percent = fields.Integer(required=True)
    deductible_fen = fields.Integer(required=True)
    cap_fen = fields.Integer(required=True)
    contribution_fen = fields.Integer(required=True)


def schedule_out(org_id, found) -> dict:
    schedule, source = found
    return {"org_id": org_id, "set_by_org_id": source, "amounts": dict(schedule.amounts)}


def scheme_out(org_id, found) -> dict:
    scheme, source = found
    return {"org_id": org_id, "set_by_org_id": source, "rate_percent": scheme.rate_percent,
            "deductible_fen": scheme.deductible_fen, "cap_fen": scheme.cap_fen,
            "contribution_fen": scheme.contribution_fen}


@blp.route("/<org_id>/life-events")
class LifeEventScheduleOf(MethodView):
    @blp.response(200, ScheduleOutSchema)
    def get(self, org_id):
        """The schedule of life-event amounts in force for an organisation (nearest set on its path)."""
        return schedule_out(org_id, policies.read_schedule(context(), org_id))

    @blp.arguments(ScheduleInSchema)
    @blp.response(200, ScheduleOutSchema)
    def put(self, body, org_id):
        """Staff of a level above the organisation set its schedule."""
        return schedule_out(org_id, policies.put_schedule(context(), org_id, body["amounts"]))


@blp.route("/<org_id>/mutual-aid")
class MutualAidSchemeOf(MethodView):
    @blp.response(200, SchemeSchema)
    def get(self, org_id):
        """The mutual medical aid scheme covering an organisation (the nearest on its path that runs one)."""
        return scheme_out(org_id, policies.read_scheme(context(), org_id))

    @blp.arguments(SchemeInSchema)
    @blp.response(200, SchemeSchema)
    def put(self, body, org_id):
        """Staff of the organisation or above run a scheme for the members below it (its mutual_aid budget
        holds the contributions and pays the claims); terms apply to enrolments made after."""
        from ..domain.mutual_aid import Scheme

        return scheme_out(org_id, policies.put_scheme(context(), org_id, Scheme(
            body["rate_percent"], body["deductible_fen"], body["cap_fen"], body["contribution_fen"])))
