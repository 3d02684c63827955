"""FerretDB 1.x (MongoDB wire protocol) on its SQLite backend, built with Go."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .cache import REPO_ROOT, cache_dir
from .process import Child, require_free, wait_for_port

FERRETDB_VERSION = "1.24.2"
GO_MODULE = REPO_ROOT / "deploy" / "ferretdb"


# Two small changes to FerretDB's SQLite backend, applied to a copy of its source:
#  1. Its _id index is built on `_ferretdb_sjson->"_id"` but its queries say
#     `->'$._id'`, an expression SQLite does not match to the index: every _id
#     lookup and every update scanned the table (50 ms per update at 20,000
#     documents). `->'_id'` means the same and uses the index.
#  2. It narrows by _id only when the filter is exactly {_id: value}; any other
#     key beside it (the {_id, version} of an optimistic update) scanned the
#     collection. The handler applies the full filter to what comes back anyway,
#     so narrowing whenever the top level holds an _id equality is always correct.
_PATCHES = [
    ("internal/backends/sqlite/metadata/metadata.go", 1,
     "IDColumn = DefaultColumn + \"->'$._id'\"",
     "IDColumn = DefaultColumn + \"->'_id'\""),
    ("internal/backends/sqlite/collection.go", 2,
     """	if params.Filter.Len() == 1 {
		v, _ := params.Filter.Get("_id")""",
     """	if params.Filter.Len() >= 1 {
		v, _ := params.Filter.Get("_id")"""),
]


def binary() -> Path:
    """Build FerretDB once with the Go toolchain; later calls return the cache.

    deploy/ferretdb is a pinned Go module (go.mod + go.sum) that embeds
    FerretDB's public package; see its main.go for why. FerretDB's source is
    taken from the Go module cache, patched in a copy under the cache dir
    (see _PATCHES), and wired in with a ``replace`` directive.
    """
    target = cache_dir() / "bin" / f"ferretdb-{FERRETDB_VERSION}-{_source_digest()}"
    if target.exists():
        return target
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
    build = cache_dir() / "build" / target.name
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    source = _patched_source(build / "FerretDB", env)
    for name in ("main.go", "go.mod", "go.sum"):
        shutil.copy(GO_MODULE / name, build / name)
    with open(build / "go.mod", "a") as go_mod:
        go_mod.write(f"\nreplace github.com/FerretDB/FerretDB => {source}\n")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    subprocess.run(["go", "build", "-trimpath", "-o", str(tmp), "."], cwd=build, check=True, env=env)
    tmp.rename(target)
    shutil.rmtree(build, ignore_errors=True)
    return target


def _patched_source(dest: Path, env: dict) -> Path:
    info = subprocess.run(["go", "mod", "download", "-json", f"github.com/FerretDB/FerretDB@v{FERRETDB_VERSION}"],
                          cwd=GO_MODULE, check=True, env=env, capture_output=True, text=True)
    shutil.copytree(json.loads(info.stdout)["Dir"], dest)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)  # the module cache is read-only
    for name, count, old, new in _PATCHES:
        path = dest / name
        text = path.read_text()
        if text.count(old) != count:
            raise RuntimeError(f"FerretDB {FERRETDB_VERSION}: {name} is not as expected; cannot patch")
        path.write_text(text.replace(old, new))
    return dest


def _source_digest() -> str:
    """Rebuild whenever the wrapper's source, pinned modules or patch change."""
    digest = hashlib.sha256(repr(_PATCHES).encode())
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
