"""notify service: templates, the inbox, preferences and announcements; later email, SMS and webhooks (通知)."""
from __future__ import annotations

from shared.config import Settings
from shared.web import create_service_app

SERVICE = "notify"


def create_app(settings: Settings | None = None):
    from .api import announcements, inbox, preferences, templates, webhooks
    from .documents import ALL

    return create_service_app(SERVICE, ALL, [inbox.blp, preferences.blp, templates.blp, announcements.blp, webhooks.blp],
                              settings)
