"""members service: organisations and members (组织与会员)."""
from __future__ import annotations

from shared import db
from shared.config import Settings
from shared.pii import Vault
from shared.web import create_base_app

from .documents import ALL as DOCUMENTS

SERVICE = "members"


def create_app(settings: Settings | None = None):
    settings = settings or Settings.from_env(SERVICE)
    settings.require_secrets()
    app, api = create_base_app(settings, "members")
    app.extensions["gonghui.vault"] = Vault(settings.pii_key)
    db.connect(settings)
    db.ensure_indexes(DOCUMENTS)

    from .api import members, orgs

    api.register_blueprint(orgs.blp)
    api.register_blueprint(members.blp)
    return app
