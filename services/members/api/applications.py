"""Applications to join (入会): a worker applies, the grassroots union approves
(a card number is issued) or rejects with a reason."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, validate

from shared.fields import Text
from shared.scope import require_role
from shared.web import ApiError

from ..documents import Organisation
from ..published import (
    MEMBER_APPLICATION_REJECTED,
    MEMBER_APPLIED,
    MEMBER_JOINED,
    member_application_rejected,
    member_applied,
    member_joined,
)
from .members import (
    MemberCreateSchema,
    MemberSchema,
    apply_change,
    caller,
    insert_member,
    issue_card,
    member_out,
    new_member,
    staff_member,
    target_org,
)

blp = Blueprint("applications", __name__, url_prefix="/api/v1/applications",
                description="Applications to join (入会申请)")


class RejectSchema(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=500))


def _pending(member_id: str):
    member = staff_member(member_id)
    if member.status != "applicant" or member.application_state != "pending":
        raise ApiError(422, "there is no pending application", {"status": [f"Status is {member.status}."]})
    return member


@blp.route("")
class Applications(MethodView):
    @blp.arguments(MemberCreateSchema)
    @blp.response(201, MemberSchema)
    def post(self, body):
        """Record a worker's application; the member starts as an applicant."""
        who = caller()
        require_role(who, "operator", "admin")
        org = target_org(body["org_id"], who)
        member = new_member(body, org, "applicant", who)
        member.application_state = "pending"
        member.record(MEMBER_APPLIED, member_applied(member))
        return member_out(insert_member(member, who, org, body))


@blp.route("/<member_id>/approve")
class Approve(MethodView):
    @blp.response(200, MemberSchema)
    def post(self, member_id):
        """Approve: the applicant becomes an active member with a card number."""
        who = caller()
        member = _pending(member_id)
        org = Organisation.objects(pk=member.org_id).first()
        if org is None or org.status != "active":
            raise ApiError(422, "the organisation is closed", {"org_id": ["Organisation is closed."]})
        card_no = member.card_no  # someone who left and applied again keeps the card
        issue_card(member)
        member.card_no = card_no or member.card_no
        apply_change(member, who, "approve", [(MEMBER_JOINED, lambda m: member_joined(m, org))],
                     status="active", application_state="approved", card_no=member.card_no,
                     joined_at=member.joined_at)
        return member_out(member)


@blp.route("/<member_id>/reject")
class Reject(MethodView):
    @blp.arguments(RejectSchema)
    @blp.response(200, MemberSchema)
    def post(self, body, member_id):
        """Reject with a reason. The record stays; the person may apply again later."""
        who = caller()
        member = _pending(member_id)
        released = f"released:{member.pk}:{member.id_number_fingerprint}"  # frees the ID for a later application
        apply_change(member, who, "reject",
                     [(MEMBER_APPLICATION_REJECTED, lambda m: member_application_rejected(m, body["reason"]))],
                     reason=body["reason"], application_state="rejected", id_number_fingerprint=released)
        return member_out(member)
