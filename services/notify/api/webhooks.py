"""Webhooks for systems: an organisation's staff register a URL and the event types it hears about the
organisation's subtree; each delivery is signed with the hook's secret, shown once when the hook is
registered and when it is rotated. A hook that failed too often in a row is disabled until staff enable
it again. Staff see and change the hooks of their organisation and below; anything else is not found.
A deleted hook is kept (who sent what where stays on record) but is gone from the API."""
from __future__ import annotations

import logging
import secrets

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.blueprint import Blueprint
from shared.errors import in_state, refuse_unless
from shared.events.envelope import utcnow
from shared.fields import Text
from shared.pagination import PageArgs, page, page_schema
from shared.scope import get_visible, require_role

from ..documents import Webhook
from ..domain.webhooks import HOOKABLE, MAX_URL_LENGTH, check_url
from ..keys import pii_vault
from .scope import caller, staff_org, staff_sees

log = logging.getLogger(__name__)

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks",
                description="Webhooks: signed deliveries of events to an organisation's systems")

STATUSES = ("active", "disabled")
MAX_HOOKS_PER_ORG = 20  # hooks are few: every event's batch reads those of its types
SIGNATURE_HELP = ("Each delivery is a POST of the CloudEvent (structured mode, JSON) with X-Gonghui-Event, "
                  "X-Gonghui-Delivery (drop repeats by it), X-Gonghui-Timestamp (unix seconds) and "
                  "X-Gonghui-Signature: sha256=<hex HMAC-SHA256 with the secret over '<timestamp>.' + body>.")


def _event_types(**kwargs):
    return fields.List(fields.String(validate=validate.OneOf(HOOKABLE)),
                       validate=validate.Length(min=1, max=len(HOOKABLE)),
                       metadata={"description": "the event types the hook hears (at least one)"}, **kwargs)


class WebhookSchema(Schema):
    id = fields.String(dump_only=True)
    org_id = fields.String(required=True, validate=validate.Length(min=1, max=64),
                           metadata={"description": "the hook hears events about this organisation's subtree"})
    url = fields.String(required=True, validate=validate.Length(min=1, max=MAX_URL_LENGTH),
                        metadata={"description": "http or https; no credentials; not a loopback, link-local or "
                                                 "private address"})
    event_types = _event_types(required=True)
    description = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=500))
    status = fields.String(dump_only=True, metadata={"description": "active, or disabled after failing too "
                                                                    "often in a row (until enabled again)"})
    failures = fields.Integer(dump_only=True, metadata={"description": "failed deliveries in a row"})
    disabled_at = fields.DateTime(dump_only=True, allow_none=True)
    disabled_reason = fields.String(dump_only=True, allow_none=True)
    created_by = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class WebhookWithSecretSchema(WebhookSchema):
    secret = fields.String(dump_only=True, metadata={"description": "shown this once: " + SIGNATURE_HELP})


class WebhookChangeSchema(Schema):
    url = fields.String(validate=validate.Length(min=1, max=MAX_URL_LENGTH))
    event_types = _event_types()
    description = Text(allow_none=True, validate=validate.Length(min=1, max=500))


class WebhookArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


WebhookPage = page_schema(WebhookSchema, "WebhookPage")


def _settings():
    return current_app.extensions["gonghui.settings"]


def _checked_url(url: str) -> str:
    return refuse_unless(check_url, url, _settings().webhook_allow_private)


def _new_secret() -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return secret, pii_vault(_settings()).encrypt(secret)


def webhook_out(hook: Webhook, secret: str | None = None) -> dict:
    out = {"id": str(hook.pk), "org_id": hook.org_id, "url": hook.url, "event_types": list(hook.event_types),
           "description": hook.description, "status": hook.status, "failures": hook.failures or 0,
           "disabled_at": hook.disabled_at, "disabled_reason": hook.disabled_reason,
           "created_by": hook.created_by, "created_at": hook.created_at}
    if secret is not None:
        out["secret"] = secret
    return out


def _visible(hook_id: str) -> Webhook:
    """A hook (not deleted) of the caller's organisation or below, else not found."""
    who = caller()
    return get_visible(Webhook, hook_id, lambda h: h.status in STATUSES and staff_sees(who, h.org_path), "webhook")


def _change(hook: Webhook, changes: dict, expect: tuple[str, ...] = STATUSES) -> Webhook:
    """Apply ``changes`` unless the hook was deleted meanwhile; the hook as it is now."""
    updated = Webhook._get_collection().update_one({"_id": hook.pk, "status": {"$in": list(expect)}}, changes)
    if not updated.matched_count:
        raise in_state("status", "The webhook changed meanwhile; read it again.")
    return Webhook.objects.get(pk=hook.pk)


@blp.route("")
class Webhooks(MethodView):
    @blp.arguments(WebhookArgs, location="query")
    @blp.response(200, WebhookPage)
    def get(self, args):
        """The hooks of the caller's organisation and below (staff), newest first."""
        who = caller()
        require_role(who, "admin", "operator")
        queryset = Webhook.objects(status__in=[args["status"]] if args.get("status") else list(STATUSES))
        if not (who.has("operator") and who.org is None):
            queryset = queryset.filter(org_path=who.org)
        return page(queryset, args, webhook_out)

    @blp.arguments(WebhookSchema)
    @blp.response(201, WebhookWithSecretSchema)
    def post(self, body):
        """Register a hook for an organisation at or below the caller's (staff). The answer holds the
        secret that signs its deliveries, shown this once."""
        who = caller()
        require_role(who, "admin", "operator")
        org = staff_org(who, body["org_id"])
        url = _checked_url(body["url"])
        if Webhook.objects(org_id=org.pk, status__in=list(STATUSES)).count() >= MAX_HOOKS_PER_ORG:
            raise in_state("org_id", f"An organisation has at most {MAX_HOOKS_PER_ORG} webhooks.")
        secret, sealed = _new_secret()
        hook = Webhook(org_id=org.pk, org_path=list(org.path), url=url, event_types=sorted(set(body["event_types"])),
                       description=body.get("description"), secret_encrypted=sealed, created_by=who.sub)
        hook.save()
        log.info("webhook %s registered for organisation %s by %s", hook.pk, org.pk, who.sub)
        return webhook_out(hook, secret)


@blp.route("/<hook_id>")
class WebhookOne(MethodView):
    @blp.response(200, WebhookSchema)
    def get(self, hook_id):
        """One hook (staff of its organisation or above)."""
        return webhook_out(_visible(hook_id))

    @blp.arguments(WebhookChangeSchema)
    @blp.response(200, WebhookSchema)
    def patch(self, body, hook_id):
        """Change a hook's URL, event types or description; a disabled hook stays disabled."""
        hook = _visible(hook_id)
        changes = {}
        if "url" in body:
            changes["url"] = _checked_url(body["url"])
        if "event_types" in body:
            changes["event_types"] = sorted(set(body["event_types"]))
        if "description" in body:
            changes["description"] = body["description"]
        if not changes:
            return webhook_out(hook)
        return webhook_out(_change(hook, {"$set": changes}))

    @blp.response(204)
    def delete(self, hook_id):
        """Delete a hook: nothing more is delivered to it (deliveries still queued become undeliverable)."""
        who = caller()
        hook = _visible(hook_id)
        _change(hook, {"$set": {"status": "deleted", "disabled_at": utcnow(),
                                "disabled_reason": f"deleted by {who.sub}"}})
        log.info("webhook %s deleted by %s", hook.pk, who.sub)


@blp.route("/<hook_id>/enable")
class WebhookEnable(MethodView):
    @blp.response(200, WebhookSchema)
    def post(self, hook_id):
        """Enable a hook again (after it was disabled for failing): its count of failures starts at 0."""
        hook = _visible(hook_id)
        _checked_url(hook.url)  # the rules may have changed since it was registered
        return webhook_out(_change(hook, {"$set": {"status": "active", "failures": 0},
                                          "$unset": {"disabled_at": "", "disabled_reason": ""}}))


@blp.route("/<hook_id>/rotate-secret")
class WebhookRotate(MethodView):
    @blp.response(200, WebhookWithSecretSchema)
    def post(self, hook_id):
        """A new secret for a hook, shown this once; the old one signs nothing from now on."""
        who = caller()
        hook = _visible(hook_id)
        secret, sealed = _new_secret()
        hook = _change(hook, {"$set": {"secret_encrypted": sealed}})
        log.info("webhook %s secret rotated by %s", hook.pk, who.sub)
        return webhook_out(hook, secret)
