"""The AsyncAPI project's parser (@asyncapi/parser, pinned in deploy/asyncapi/package.json), installed
once from the npm registry into the cache, to validate the platform's AsyncAPI document."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from .cache import REPO_ROOT, cache_dir

SOURCE = REPO_ROOT / "deploy" / "asyncapi"


def install() -> Path:
    """The directory holding the validator and its node_modules (installed on first use)."""
    version = json.loads((SOURCE / "package.json").read_text())["dependencies"]["@asyncapi/parser"]
    target = cache_dir() / f"asyncapi-parser-{version}"
    marker = target / ".complete"
    if not marker.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(SOURCE / "package.json", target / "package.json")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--omit=dev", "--loglevel=error"],
                       cwd=target, check=True, capture_output=True, text=True, timeout=600)
        marker.touch()
    shutil.copy(SOURCE / "validate.mjs", target / "validate.mjs")
    return target


def validate(document: Path) -> tuple[bool, list[dict]]:
    """(valid, diagnostics) as the parser reports them."""
    target = install()
    result = subprocess.run(["node", str(target / "validate.mjs"), str(document.resolve())], cwd=target,
                            capture_output=True, text=True, timeout=300)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise RuntimeError(f"the AsyncAPI parser failed: {result.stderr[-2000:]}") from None
    return report["valid"], report["diagnostics"]
