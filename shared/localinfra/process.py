"""Start a child process, wait for its port, stop it cleanly."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def require_free(port: int, name: str) -> None:
    if port_open("127.0.0.1", port):
        raise RuntimeError(f"port {port} for {name} is already in use (another run still going?)")


def wait_for_port(host: str, port: int, proc: subprocess.Popen | None, timeout: float, name: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode} before listening on {port}")
        if port_open(host, port):
            return
        time.sleep(0.2)
    raise TimeoutError(f"{name} did not listen on {host}:{port} within {timeout:.0f}s")


@dataclass
class Child:
    """A started process with its log file; stop() is safe to call twice."""

    name: str
    proc: subprocess.Popen
    log_path: Path
    _log: object = field(repr=False, default=None)
    _signalled: bool = field(repr=False, default=False)

    @classmethod
    def start(cls, name: str, argv: list[str], log_path: Path, env: dict | None = None, cwd: str | None = None) -> "Child":
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "ab")
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
        return cls(name=name, proc=proc, log_path=log_path, _log=log)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, not a shutdown."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._close_log()

    def ask_to_stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Ask the process group to stop without waiting (``stop`` then waits): several children
        told at once shut down side by side."""
        if self.alive():
            try:
                os.killpg(self.proc.pid, sig)
                self._signalled = True
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 20, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.alive():
            try:
                if not self._signalled:
                    os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        self._close_log()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
