"""What every use case receives besides its input (the shape every read-model service shares)."""
from __future__ import annotations

from shared.readscope import Found
from shared.readscope import ReadScopeContext as Context

__all__ = ["Context", "Found"]
