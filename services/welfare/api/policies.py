"""Per-organisation policy for assistance and the hardship registry."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..app import policies
from ..domain.assistance import KINDS
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
