"""The workers' congress (职工代表大会) over HTTP."""
from __future__ import annotations

from flask_smorest import Blueprint

BLUEPRINTS: list[Blueprint] = []
