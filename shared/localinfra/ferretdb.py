"""FerretDB 1.x (MongoDB wire protocol) on its SQLite backend, built with Go."""
from __future__ import annotations

import hashlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .cache import REPO_ROOT, cache_dir
from .process import Child, require_free, wait_for_port

FERRETDB_VERSION = "1.24.2"
GO_MODULE = REPO_ROOT / "deploy" / "ferretdb"


def binary() -> Path:
    """Build FerretDB once with the Go toolchain; later calls return the cache.

    deploy/ferretdb is a pinned Go module (go.mod + go.sum) that embeds
    FerretDB's public package; see its main.go for why.
    """
    target = cache_dir() / "bin" / f"ferretdb-{FERRETDB_VERSION}-{_source_digest()}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    subprocess.run(
        ["go", "build", "-trimpath", "-o", str(tmp), "."],
        cwd=GO_MODULE,
        check=True,
        env={**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"},
    )
    tmp.rename(target)
    return target


def _source_digest() -> str:
    """Rebuild whenever the wrapper's source or pinned modules change."""
    digest = hashlib.sha256()
    for name in ("main.go", "go.mod", "go.sum"):
        digest.update((GO_MODULE / name).read_bytes())
    return digest.hexdigest()[:12]


@dataclass
class FerretDB:
    data_dir: Path
    port: int
    child: Child | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 60) -> "FerretDB":
        exe = binary()
        require_free(self.port, "ferretdb")
        sqlite_dir = self.data_dir / "sqlite"
        sqlite_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            str(exe),
            f"--sqlite-url=file:{sqlite_dir}/",
            f"--listen-addr=127.0.0.1:{self.port}",
            "--log-level=warn",
        ]
        self.child = Child.start("ferretdb", argv, self.data_dir / "ferretdb.log")
        wait_for_port("127.0.0.1", self.port, self.child.proc, timeout, "ferretdb")
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        from pymongo import MongoClient

        deadline = time.monotonic() + timeout
        while True:
            try:
                with MongoClient(self.url, serverSelectionTimeoutMS=2000) as client:
                    client.admin.command("ping")
                return
            except Exception:
                if time.monotonic() > deadline or not self.child.alive():
                    raise RuntimeError(f"ferretdb not ready:\n{self.child.tail()}")
                time.sleep(0.3)

    def stop(self) -> None:
        if self.child:
            self.child.stop()

    def kill(self) -> None:
        if self.child:
            self.child.kill()
