"""events service: activities and the workers' congress (活动与民主管理)."""
from __future__ import annotations

from shared.config import Settings
from shared.web import create_service_app

SERVICE = "events"


def create_app(settings: Settings | None = None):
    from .documents import ALL

    return create_service_app(SERVICE, ALL, [], settings)
