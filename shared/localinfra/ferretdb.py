"""FerretDB 1.x (MongoDB wire protocol), built with Go, on PostgreSQL (or SQLite)."""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .cache import REPO_ROOT, cache_dir
from .postgres import Postgres
from .process import Child, require_free, wait_for_port

log = logging.getLogger(__name__)

FERRETDB_VERSION = "1.24.2"
GO_MODULE = REPO_ROOT / "deploy" / "ferretdb"

# gonghui's changes to FerretDB's source (a unified diff, applied to a copy):
#  - PostgreSQL backend: filters become SQL that the indexes answer (equality
#    with MongoDB's array semantics, $in, ranges, anchored prefixes, $exists,
#    $and/$or), and a find's sort and limit go into SQL whenever the whole
#    filter was translated exactly (internal/backends/postgresql/pushdown.go);
#    every indexed field gets a GIN index and a partial "is an array" index
#    beside its btree, which is created with MongoDB's null order.
#  - PostgreSQL backend, MongoDB's multikey compound index: a compound index
#    led by a field that holds arrays (org_path) also gets one partial btree
#    per array position (0-7), so "org_path holds X, status s, newest first,
#    20 rows" reads one ordered range per position, merged with UNION ALL
#    (positionArms in pushdown.go), instead of every member of X.
#  - Reads of _id alone (a find or delete naming nothing else) read only _id.
#  - Single-document writes are atomic as in MongoDB: the connection handler
#    runs one read-modify-write command (update, delete, findAndModify) at a
#    time per collection, and on SQLite one write command at a time
#    (internal/clientconn/writelocks.go).
#  - SQLite backend: _id lookups use the _id index (its index expression and
#    its queries differed) and narrow by _id whenever the filter holds one.
PATCH = GO_MODULE / f"ferretdb-{FERRETDB_VERSION}.patch"


def binary() -> Path:
    """Build FerretDB once with the Go toolchain; later calls return the cache.

    deploy/ferretdb is a pinned Go module (go.mod + go.sum) that embeds
    FerretDB's public package; see its main.go for why. FerretDB's source is
    taken from the Go module cache, patched in a copy under the cache dir
    (see PATCH), and wired in with a ``replace`` directive.
    """
    target = cache_dir() / "bin" / f"ferretdb-{FERRETDB_VERSION}-{_source_digest()}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".build.lock", "w") as lock:  # two test runs may start at once: one builds
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            _build(target)
    return target


def _build(target: Path) -> None:
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
    tmp = target.parent / (target.name + ".tmp")
    subprocess.run(["go", "build", "-trimpath", "-o", str(tmp), "."], cwd=build, check=True, env=env)
    tmp.rename(target)
    shutil.rmtree(build, ignore_errors=True)


def _patched_source(dest: Path, env: dict) -> Path:
    info = subprocess.run(["go", "mod", "download", "-json", f"github.com/FerretDB/FerretDB@v{FERRETDB_VERSION}"],
                          cwd=GO_MODULE, check=True, env=env, capture_output=True, text=True)
    shutil.copytree(json.loads(info.stdout)["Dir"], dest)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)  # the module cache is read-only
    # no repository above the copy may claim it (git apply works on the enclosing repository's paths)
    subprocess.run(["git", "apply", "--whitespace=nowarn", str(PATCH)], cwd=dest, check=True,
                   env={**env, "GIT_CEILING_DIRECTORIES": str(dest.parent)})
    return dest


def _source_digest() -> str:
    """Rebuild whenever the wrapper's source, pinned modules or patch change."""
    digest = hashlib.sha256()
    for name in ("main.go", "go.mod", "go.sum", PATCH.name):
        digest.update((GO_MODULE / name).read_bytes())
    return digest.hexdigest()[:12]


@dataclass
class FerretDB:
    """FerretDB on its own PostgreSQL server (``backend="postgresql"``, the default), or on SQLite
    files (``backend="sqlite"``, kept for comparison: it scans for every filter but _id)."""

    data_dir: Path
    port: int
    backend: str = ""
    postgres: Postgres | None = None
    child: Child | None = None

    def __post_init__(self):
        self._chosen = self.backend or os.environ.get("GONGHUI_FERRETDB_BACKEND", "")
        self.backend = self._chosen or "postgresql"
        if self.backend not in ("postgresql", "sqlite"):
            raise ValueError(f"unknown FerretDB backend {self.backend!r}")

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 60) -> "FerretDB":
        exe = binary()
        require_free(self.port, "ferretdb")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [str(exe), f"--listen-addr=127.0.0.1:{self.port}", "--log-level=warn"]
        if self.backend == "postgresql":
            try:
                self.postgres = Postgres(self.data_dir / "postgres").start(timeout)
            except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
                if self._chosen:
                    raise
                # A machine that cannot run PostgreSQL still runs everything, only without indexes.
                log.warning("PostgreSQL could not start (%s); FerretDB falls back to SQLite, which scans "
                            "every query but _id lookups", exc)
                self.backend = "sqlite"
                return self.start(timeout)
            argv.append(f"--postgresql-url={self.postgres.url}")
        else:
            sqlite_dir = self.data_dir / "sqlite"
            sqlite_dir.mkdir(parents=True, exist_ok=True)
            argv.append(f"--sqlite-url=file:{sqlite_dir}/")
        argv.append(f"--handler={self.backend}")
        # fewer garbage collections under load (allocation and collection showed in its CPU profile)
        self.child = Child.start("ferretdb", argv, self.data_dir / "ferretdb.log", env={"GOGC": "400"})
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
            except Exception as exc:
                if time.monotonic() > deadline or not self.child.alive():
                    raise RuntimeError(f"ferretdb not ready:\n{self.child.tail()}") from exc
                time.sleep(0.3)

    def stop(self) -> None:
        if self.child:
            self.child.stop()
        if self.postgres:
            self.postgres.stop()

    def kill(self) -> None:
        if self.child:
            self.child.kill()
