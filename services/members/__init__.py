"""members service: organisations and members (组织与会员)."""
from __future__ import annotations

from shared.config import Settings
from shared.web import create_service_app

SERVICE = "members"


def create_app(settings: Settings | None = None):
    from .api import applications, dues, imports, members, orgs, reviews, stats, transfers
    from .card_numbers import CardSequence
    from .documents import ALL
    from .keys import vaults
    from .tree import TreeCache

    settings = settings or Settings.from_env(SERVICE)
    blueprints = [orgs.blp, members.blp, applications.blp, transfers.blp, dues.blp, reviews.blp, stats.blp,
                  imports.blp]
    app = create_service_app(SERVICE, ALL, blueprints, settings, documented_as=members.DOCUMENTED_AS)
    app.extensions["gonghui.vault"], app.extensions["gonghui.contact_seal"] = vaults(settings)
    app.extensions["gonghui.tree_cache"] = TreeCache()
    app.extensions["gonghui.card_numbers"] = CardSequence(settings.card_number_block)
    return app
