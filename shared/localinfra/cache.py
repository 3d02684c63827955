"""Where downloads and builds are cached (outside the repository)."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    path = Path(os.environ.get("GONGHUI_CACHE_DIR", Path.home() / ".cache" / "gonghui"))
    path.mkdir(parents=True, exist_ok=True)
    return path
