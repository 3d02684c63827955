"""events service: activities and the workers' congress (活动与民主管理)."""
from __future__ import annotations

from shared import db
from shared.config import Settings
from shared.web import create_base_app

from .documents import ALL as DOCUMENTS

SERVICE = "events"


def create_app(settings: Settings | None = None):
    settings = settings or Settings.from_env(SERVICE)
    settings.require_secrets()
    app, _api = create_base_app(settings, "events")
    db.connect(settings)
    db.ensure_indexes(DOCUMENTS)
    return app
