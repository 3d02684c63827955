"""Applications to join (入会): a worker applies, the grassroots union approves
(a card number is issued) or rejects with a reason."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, validate

from shared.blueprint import Blueprint
from shared.fields import Text

from ..app import registration
from .member_schemas import MemberCreateSchema, MemberSchema, member_out
from .scope import context

blp = Blueprint("applications", __name__, url_prefix="/api/v1/applications",
                description="Applications to join (入会申请)")


class RejectSchema(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=500))


@blp.route("")
class Applications(MethodView):
    @blp.arguments(MemberCreateSchema)
    @blp.response(201, MemberSchema)
    def post(self, body):
        """Record a worker's application; the member starts as an applicant."""
        return member_out(registration.apply(context(), body))


@blp.route("/<member_id>/approve")
class Approve(MethodView):
    @blp.response(200, MemberSchema)
    def post(self, member_id):
        """Approve: the applicant becomes an active member with a card number."""
        return member_out(registration.approve(context(), member_id))


@blp.route("/<member_id>/reject")
class Reject(MethodView):
    @blp.arguments(RejectSchema)
    @blp.response(200, MemberSchema)
    def post(self, body, member_id):
        """Reject with a reason. The record stays; the person may apply again later."""
        return member_out(registration.reject(context(), member_id, body["reason"]))
