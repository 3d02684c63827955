"""welfare service: hardship assistance and services (帮扶与服务)."""
from __future__ import annotations

from shared.config import Settings
from shared.web import create_service_app

SERVICE = "welfare"


def create_app(settings: Settings | None = None):
    from .documents import ALL

    return create_service_app(SERVICE, ALL, [], settings)
