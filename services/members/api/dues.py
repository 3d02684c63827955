"""Dues (会费): wage bases, assessments, payments (also in bulk, as payroll
deductions arrive), arrears per member, and a branch's monthly report."""
from __future__ import annotations

from bson import ObjectId
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from shared.db import is_duplicate_key
from shared.events.envelope import utcnow
from shared.fields import Text, WholeNumber
from shared.scope import get_visible, require_role
from shared.web import ApiError

from .. import domain
from ..documents import DuesAccount, Member, Payment
from ..published import DUES_ASSESSED, DUES_PAID, dues_data
from . import scope
from .members import caller, visible_member
from .orgs import subtree_root

blp = Blueprint("dues", __name__, url_prefix="/api/v1/dues", description="Dues (会费)")

MONTH = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="Must be YYYY-MM."))
MAX_BATCH = 1000


class WageItem(Schema):
    member_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    wage_fen = WholeNumber(required=True, validate=validate.Range(min=0, max=10**10),
                              metadata={"description": "monthly wage in fen, without bonuses, allowances, subsidies"})


class AssessSchema(Schema):
    month = MONTH
    items = fields.List(fields.Nested(WageItem), required=True, validate=validate.Length(min=1, max=MAX_BATCH))


class PaymentItem(Schema):
    member_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    amount_fen = WholeNumber(required=True, validate=validate.Range(min=1, max=10**9))
    reference = Text(load_default=None, validate=validate.Length(min=1, max=100),
                              metadata={"description": "payroll batch or receipt; a repeated reference is ignored"})


class PaySchema(Schema):
    month = MONTH
    items = fields.List(fields.Nested(PaymentItem), required=True, validate=validate.Length(min=1, max=MAX_BATCH))


class ItemResult(Schema):
    member_id = fields.String(required=True)
    ok = fields.Boolean(required=True)
    dues_fen = fields.Integer()
    paid_fen = fields.Integer()
    error = fields.String()


class BatchResult(Schema):
    month = fields.String(required=True)
    succeeded = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    items = fields.List(fields.Nested(ItemResult), required=True)


class MonthSchema(Schema):
    month = fields.String(required=True)
    dues_fen = fields.Integer(required=True)
    paid_fen = fields.Integer(required=True)
    outstanding_fen = fields.Integer(required=True)
    exempt = fields.Boolean(required=True)


class MemberDuesSchema(Schema):
    member_id = fields.String(required=True)
    months = fields.List(fields.Nested(MonthSchema), required=True)
    arrears_fen = fields.Integer(required=True)
    months_in_arrears = fields.List(fields.String(), required=True)


class ReportArgs(Schema):
    org_id = fields.String(validate=validate.Length(min=1, max=64))
    month = MONTH


class ReportSchema(Schema):
    org_id = fields.String(required=True)
    month = fields.String(required=True)
    members_assessed = fields.Integer(required=True)
    exempt = fields.Integer(required=True)
    expected_fen = fields.Integer(required=True)
    paid_fen = fields.Integer(required=True)
    outstanding_fen = fields.Integer(required=True)
    members_paid_in_full = fields.Integer(required=True)
    members_outstanding = fields.Integer(required=True)


def _month_out(account: DuesAccount) -> dict:
    return {"month": account.month, "dues_fen": account.dues_fen, "paid_fen": account.paid_fen,
            "outstanding_fen": max(account.dues_fen - account.paid_fen, 0), "exempt": account.exempt}


def _members_in_scope(member_ids: list[str], who) -> dict:
    visible = visible_member(who)
    found = {}
    for member_id in dict.fromkeys(member_ids):
        member = Member.objects(pk=ObjectId(member_id)).first() if ObjectId.is_valid(member_id) else None
        if member is not None and visible(member):
            found[member_id] = member
    return found


def assess(member: Member, month: str, wage_fen: int) -> DuesAccount:
    """Upsert the month's assessment; re-assessing with a new wage updates it."""
    exempt = bool(member.kept_reason)
    dues = 0 if exempt else domain.monthly_dues(wage_fen)
    account_id = f"{member.pk}:{month}"
    for _ in range(5):
        account = DuesAccount.objects(pk=account_id).first()
        if account is None:
            account = DuesAccount(id=account_id, member_id=str(member.pk), org_id=member.org_id,
                                  org_path=scope.current_path(member.org_path), month=month, wage_fen=wage_fen,
                                  dues_fen=dues,
                                  exempt=exempt, assessed_at=utcnow())
            account.record(DUES_ASSESSED, dues_data(account))
            try:
                account.save(force_insert=True)
                return account
            except Exception as exc:
                if not is_duplicate_key(exc):
                    raise
                continue  # a concurrent first assessment won; update it instead
        if (account.wage_fen, account.dues_fen, account.exempt) == (wage_fen, dues, exempt):
            return account  # the same assessment again: nothing changes
        account.wage_fen, account.dues_fen, account.exempt = wage_fen, dues, exempt
        account.version += 1
        if DuesAccount.update_with_event(account.pk, DUES_ASSESSED, dues_data(account),
                                         conditions={"version": account.version - 1}, set__wage_fen=wage_fen,
                                         set__dues_fen=dues, set__exempt=exempt, set__version=account.version,
                                         set__assessed_at=utcnow()):
            return account
    raise ApiError(409, "the dues account kept changing; retry", code="conflict")


def pay(member: Member, month: str, amount_fen: int, reference: str) -> DuesAccount:
    account_id = f"{member.pk}:{month}"
    for _ in range(5):
        account = DuesAccount.objects(pk=account_id).first()
        if account is None:
            raise domain.DomainError("month", f"no dues are assessed for {month} yet")
        if any(p.reference == reference for p in account.payments):
            return account  # the same payment again (a replayed payroll file): no second effect
        payment = Payment(reference=reference, amount_fen=amount_fen, paid_at=utcnow())
        account.paid_fen += amount_fen
        account.version += 1
        if DuesAccount.update_with_event(account.pk, DUES_PAID, dues_data(account),
                                         conditions={"version": account.version - 1}, push__payments=payment,
                                         inc__paid_fen=amount_fen, set__version=account.version):
            return account
    raise ApiError(409, "the dues account kept changing; retry", code="conflict")


def _batch(month: str, items: list[dict], apply) -> dict:
    who = caller()
    require_role(who, "operator", "admin")
    members = _members_in_scope([i["member_id"] for i in items], who)
    results = []
    for item in items:
        member = members.get(item["member_id"])
        if member is None:
            results.append({"member_id": item["member_id"], "ok": False, "error": "member not found"})
            continue
        try:
            account = apply(member, item)
        except domain.DomainError as exc:
            results.append({"member_id": item["member_id"], "ok": False, "error": exc.message})
            continue
        results.append({"member_id": item["member_id"], "ok": True, "dues_fen": account.dues_fen,
                        "paid_fen": account.paid_fen})
    succeeded = sum(r["ok"] for r in results)
    return {"month": month, "succeeded": succeeded, "failed": len(results) - succeeded, "items": results}


@blp.route("/assessments")
class Assessments(MethodView):
    @blp.arguments(AssessSchema)
    @blp.response(200, BatchResult)
    def post(self, body):
        """Record wage bases for a month (from payroll, up to 1000 a call) and assess dues: 0.5% of the
        wage with the part under 10 yuan not counted; kept memberships are exempt. Idempotent."""
        month = body["month"]

        def apply(member, item):
            if member.status != "active":
                raise domain.DomainError("member_id", f"a member whose status is {member.status} owes no dues")
            return assess(member, month, item["wage_fen"])

        return _batch(month, body["items"], apply)


@blp.route("/payments")
class Payments(MethodView):
    @blp.arguments(PaySchema)
    @blp.response(200, BatchResult)
    def post(self, body):
        """Record dues payments for a month (payroll deductions, up to 1000 a call). A payment whose
        reference was already recorded for that member and month is ignored."""
        month = body["month"]
        return _batch(month, body["items"],
                      lambda member, item: pay(member, month, item["amount_fen"],
                                               item["reference"] or f"payroll-{month}"))


@blp.route("/members/<member_id>")
class MemberDues(MethodView):
    @blp.response(200, MemberDuesSchema)
    def get(self, member_id):
        """A member's dues by month and arrears (the member may read its own)."""
        member = get_visible(Member, member_id, visible_member(caller()), "member")
        accounts = sorted(DuesAccount.objects(member_id=str(member.pk)), key=lambda a: a.month)
        months = [_month_out(a) for a in accounts]
        owing = [m for m in months if m["outstanding_fen"] > 0]
        return {"member_id": str(member.pk), "months": months,
                "arrears_fen": sum(m["outstanding_fen"] for m in owing),
                "months_in_arrears": [m["month"] for m in owing]}


@blp.route("/report")
class Report(MethodView):
    @blp.arguments(ReportArgs, location="query")
    @blp.response(200, ReportSchema)
    def get(self, args):
        """A branch's (or any subtree's) dues for a month: expected, paid, outstanding."""
        org = subtree_root(args.get("org_id"))
        accounts = DuesAccount._get_collection().find(
            {"org_path": str(org.pk), "month": args["month"]}, {"dues_fen": 1, "paid_fen": 1, "exempt": 1,
                                                                "org_path": 1})
        report = {"org_id": str(org.pk), "month": args["month"], "members_assessed": 0, "exempt": 0,
                  "expected_fen": 0, "paid_fen": 0, "outstanding_fen": 0, "members_paid_in_full": 0,
                  "members_outstanding": 0}
        # copies of paths may lag behind a move: count what the current tree puts in the subtree
        for raw in scope.stream_within(str(org.pk), lambda raw: raw["org_path"], accounts):
            outstanding = max(raw["dues_fen"] - raw.get("paid_fen", 0), 0)
            report["members_assessed"] += 1
            report["exempt"] += bool(raw.get("exempt"))
            report["expected_fen"] += raw["dues_fen"]
            report["paid_fen"] += raw.get("paid_fen", 0)
            report["outstanding_fen"] += outstanding
            report["members_outstanding" if outstanding else "members_paid_in_full"] += 1
        return report
