"""A member's notification preferences: each channel on or off per category (the mandatory categories
stay on in the inbox: 422 naming the field), and quiet hours in Asia/Shanghai for email and SMS."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.errors import NotFound, Refused
from shared.events.envelope import utcnow
from shared.rules import DomainError

from ..documents import Preference
from ..domain import preferences as rules
from ..domain.templates import CATEGORIES, CHANNELS, MANDATORY
from .scope import caller, readable_member

blp = Blueprint("preferences", __name__, url_prefix="/api/v1/preferences",
                description="Notification preferences per member (通知设置)")

_CLOCK = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="A time of day, HH:MM (Asia/Shanghai).")

# each category's switches, and the categories: a fixed shape, so that the OpenAPI document says exactly
# what is accepted (a category or channel outside it is refused naming it)
Switches = Schema.from_dict({channel: fields.Boolean() for channel in CHANNELS}, name="ChannelSwitches")
Channels = Schema.from_dict({category: fields.Nested(Switches) for category in CATEGORIES}, name="CategoryChannels")


class PreferencesSchema(Schema):
    member_id = fields.String(dump_only=True)
    channels = fields.Nested(Channels, load_default=dict,
                             metadata={"description": "category → channel → on/off; left out: unchanged"})
    quiet_start = fields.String(load_default=rules.QUIET_START, validate=_CLOCK, metadata={"example": "22:00"})
    quiet_end = fields.String(load_default=rules.QUIET_END, validate=_CLOCK, metadata={"example": "07:00"})
    mandatory = fields.List(fields.String(), dump_only=True)
    updated_at = fields.DateTime(dump_only=True, allow_none=True)


def _out(member_id: str, stored: Preference | None) -> dict:
    return {"member_id": member_id, "channels": rules.merged(stored.channels if stored else None),
            "quiet_start": stored.quiet_start if stored else rules.QUIET_START,
            "quiet_end": stored.quiet_end if stored else rules.QUIET_END,
            "mandatory": sorted(MANDATORY), "updated_at": stored.updated_at if stored else None}


@blp.route("/<member_id>")
class Preferences(MethodView):
    @blp.response(200, PreferencesSchema)
    def get(self, member_id):
        """A member's preferences (the defaults until changed): the member itself, or staff of its branch."""
        recipient = readable_member(caller(), member_id)
        return _out(recipient.pk, Preference.objects(pk=recipient.pk).first())

    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesSchema)
    def put(self, body, member_id):
        """Change one's own preferences (only the member itself); categories left out keep their switches."""
        who = caller()
        if not who.acts_as_member(member_id):
            raise NotFound("member not found", {"member_id": ["No such member."]})
        recipient = readable_member(who, member_id)
        try:
            rules.check(body["channels"], body["quiet_start"], body["quiet_end"])
        except DomainError as exc:
            raise Refused.on(exc.field, exc.message) from None
        stored = Preference.objects(pk=recipient.pk).first()
        channels = {k: dict(v) for k, v in (stored.channels if stored else {}).items()}
        for category, switches in body["channels"].items():
            channels.setdefault(category, {}).update(switches)
        Preference.objects(pk=recipient.pk).update_one(
            upsert=True, set__channels=channels, set__quiet_start=body["quiet_start"],
            set__quiet_end=body["quiet_end"], set__updated_at=utcnow())
        return _out(recipient.pk, Preference.objects(pk=recipient.pk).first())
