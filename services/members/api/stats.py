"""Membership statistics for a subtree, in one call, for dashboards."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint

from ..app import stats
from .scope import context

blp = Blueprint("stats", __name__, url_prefix="/api/v1/stats", description="Statistics (统计)")
MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="Must be YYYY-MM.")


class StatsArgs(Schema):
    org_id = fields.String(validate=validate.Length(min=1, max=64))
    start = fields.String(data_key="from", validate=MONTH,
                          metadata={"description": "first month of the period (from and to in either order)"})
    end = fields.String(data_key="to", validate=MONTH, metadata={"description": "last month of the period"})


class PeriodSchema(Schema):
    start = fields.String(data_key="from", attribute="from")
    end = fields.String(data_key="to", attribute="to")
    joined = fields.Integer()
    left = fields.Integer()
    transferred_in = fields.Integer()
    transferred_out = fields.Integer()


class StatsSchema(Schema):
    org_id = fields.String(required=True)
    as_of = fields.DateTime(allow_none=True, metadata={"description": "when the counts were taken"})
    members = fields.Integer(required=True, metadata={"description": "active and suspended members"})
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_gender = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_employment_type = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_age_band = fields.Dict(keys=fields.String(), values=fields.Integer())
    kept = fields.Integer()
    period = fields.Nested(PeriodSchema)
    employees = fields.Integer(metadata={"description": "headcount of the grassroots unions' employers"})
    join_rate = fields.Float(allow_none=True, metadata={"description": "入会率 = members / employees"})


@blp.route("")
class Stats(MethodView):
    @blp.arguments(StatsArgs, location="query")
    @blp.response(200, StatsSchema)
    def get(self, args):
        """Members by status, gender, employment type and age band; joins, leaves and transfers in a
        period (default: this year to date); the join rate. Counts are refreshed by the worker."""
        return stats.subtree(context(), args.get("org_id"), args.get("start"), args.get("end"))
