"""Who may see what: the scope every read-model service shares (``shared.readscope``), under the names
the use cases call."""
from __future__ import annotations

from shared.readscope import *  # noqa: F403 (the use cases' names)
