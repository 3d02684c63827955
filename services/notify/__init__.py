"""notify service: inbox, and later email, SMS and webhooks (通知)."""
from __future__ import annotations

from shared import db
from shared.config import Settings
from shared.web import create_base_app

from .documents import ALL as DOCUMENTS

SERVICE = "notify"


def create_app(settings: Settings | None = None):
    settings = settings or Settings.from_env(SERVICE)
    settings.require_secrets()
    app, api = create_base_app(settings, "notify")
    db.connect(settings)
    db.ensure_indexes(DOCUMENTS)

    from .api import inbox

    api.register_blueprint(inbox.blp)
    return app
