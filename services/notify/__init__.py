"""notify service: templates, the inbox, preferences, announcements, webhooks and the delivery log (通知)."""
from __future__ import annotations

from shared.config import Settings
from shared.web import create_service_app

SERVICE = "notify"


def create_app(settings: Settings | None = None):
    from .api import announcements, deliveries, inbox, preferences, templates, webhooks
    from .documents import ALL

    blueprints = [inbox.blp, preferences.blp, templates.blp, announcements.blp, webhooks.blp, deliveries.blp]
    return create_service_app(SERVICE, ALL, blueprints, settings)
