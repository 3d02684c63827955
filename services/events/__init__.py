"""events service: activities and the workers' congress (活动与民主管理)."""
from __future__ import annotations

from shared.config import Settings
from shared.web import create_service_app

SERVICE = "events"


def create_app(settings: Settings | None = None):
    from .api import activities, congress, registrations, suggestions
    from .documents import ALL

    blueprints = [activities.blp, registrations.blp, suggestions.blp, *congress.BLUEPRINTS]
    return create_service_app(SERVICE, ALL, blueprints, settings)
