"""The message templates, for staff: the list, and a preview of one filled with sample data (the
producer's JSON Schema examples)."""
from __future__ import annotations

from functools import lru_cache

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.errors import NotFound
from shared.scope import require_role

from ..domain.templates import CHANNELS, LANGUAGES, MANDATORY, REMINDER_EXAMPLE, REMINDERS, TEMPLATES, render
from .scope import caller

blp = Blueprint("templates", __name__, url_prefix="/api/v1/templates", description="Message templates (消息模板)")

SAMPLE = {"name": "张三", "org_name": "示范市第一中学工会", "from_org_name": "示范市第一中学工会",
          "to_org_name": "示范市第二中学工会"}


@lru_cache(maxsize=1)
def _examples() -> dict[str, list[dict]]:
    """The producers' examples of each type (their schema files ship with the code)."""
    from services.events import published as events
    from services.members import published as members
    from services.welfare import published as welfare

    return {**{t.name: t.schema.get("examples", []) for t in events.ALL + members.ALL + welfare.ALL},
            **dict.fromkeys(REMINDERS, [REMINDER_EXAMPLE])}


ALL_TEMPLATES = {**TEMPLATES, **REMINDERS}  # the producers' event types, and notify's own reminders


class TemplateSchema(Schema):
    event_type = fields.String(required=True)
    category = fields.String(required=True)
    mandatory = fields.Boolean(required=True)
    audience = fields.String(required=True, metadata={"description": "member, or org (its staff's inbox)"})
    channels = fields.List(fields.String(), required=True)
    languages = fields.List(fields.String(), required=True)


class TemplateList(Schema):
    items = fields.List(fields.Nested(TemplateSchema), required=True)


class PreviewArgs(Schema):
    channel = fields.String(load_default="inbox", validate=validate.OneOf(CHANNELS))
    language = fields.String(load_default="zh-CN", validate=validate.OneOf(LANGUAGES))


class PreviewSchema(Schema):
    event_type = fields.String(required=True)
    channel = fields.String(required=True)
    language = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    data = fields.Dict(required=True, metadata={"description": "The sample event data filled in."})


def _require_staff():
    require_role(caller(), "admin", "operator")


def _template_out(template) -> dict:
    return {"event_type": template.event_type, "category": template.category,
            "mandatory": template.category in MANDATORY, "audience": template.audience,
            "channels": list(CHANNELS), "languages": list(LANGUAGES)}


@blp.route("")
class Templates(MethodView):
    @blp.response(200, TemplateList)
    def get(self):
        """Every template (staff): one per event type and reminder, each with an inbox, email and SMS text."""
        _require_staff()
        return {"items": [_template_out(t) for _, t in sorted(ALL_TEMPLATES.items())]}


@blp.route("/<event_type>/preview")
class Preview(MethodView):
    @blp.arguments(PreviewArgs, location="query")
    @blp.response(200, PreviewSchema)
    def get(self, args, event_type):
        """A template filled with the producer's example data (staff)."""
        _require_staff()
        template = ALL_TEMPLATES.get(event_type)
        if template is None:
            raise NotFound("template not found", {"event_type": ["No template for this type."]})
        data = (_examples().get(event_type) or [{}])[0]
        rendered = render(template, args["channel"], data, args["language"], SAMPLE)
        return {"event_type": event_type, "channel": args["channel"], "language": rendered.language,
                "title": rendered.title, "body": rendered.body, "data": data}
