"""members service: organisations and members (组织与会员)."""
from __future__ import annotations

from shared.config import Settings
from shared.pii import Vault
from shared.web import create_service_app

SERVICE = "members"


def create_app(settings: Settings | None = None):
    from .api import applications, dues, imports, members, orgs, reviews, stats, transfers
    from .documents import ALL

    settings = settings or Settings.from_env(SERVICE)
    blueprints = [orgs.blp, members.blp, applications.blp, transfers.blp, dues.blp, reviews.blp, stats.blp,
                  imports.blp]
    app = create_service_app(SERVICE, ALL, blueprints, settings)
    app.extensions["gonghui.vault"] = Vault(settings.pii_key)
    return app
