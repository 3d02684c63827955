"""Integration events the welfare service publishes on gonghui.welfare.v1, each with a JSON Schema in
schemas/; the data is built here from the change, never dumped from a Document. What notify needs to
tell applicants and staff: decisions on applications and hardship files, disbursements, the public
notice opened and closed, objections lodged,
campaign visits recorded and life-event payments made (mutual aid claims are applications of kind
mutual_aid). Amounts may be published; health, income and household
details never are."""
from __future__ import annotations

from .assistance import ASSISTANCE_TYPES
from .condolences import CONDOLENCE_TYPES
from .hardship import HARDSHIP_TYPES
from .types import SOURCE, TOPIC

ALL = [*ASSISTANCE_TYPES, *HARDSHIP_TYPES, *CONDOLENCE_TYPES]

__all__ = ["ALL", "SOURCE", "TOPIC"]
