"""welfare service: assistance and services (帮扶与服务): union funds, assistance applications, the hardship
registry, condolence campaigns and life-event payments, mutual medical aid."""
from __future__ import annotations

from shared.config import Settings
from shared.web import create_service_app

SERVICE = "welfare"


def create_app(settings: Settings | None = None):
    from .api import applications, condolences, funds, hardship, mutual_aid, policies
    from .documents import ALL
    from .keys import pii_vault

    settings = settings or Settings.from_env(SERVICE)
    pii_vault(settings)  # no key, no start: sealed details could be neither written nor read
    blueprints = [funds.blp, applications.blp, hardship.blp, policies.blp, condolences.blp, mutual_aid.blp]
    return create_service_app(SERVICE, ALL, blueprints, settings)
