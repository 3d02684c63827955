"""Where a figure's time goes: CPU seconds spent by each part of the stack while something runs.

A part is a set of started processes and everything below them. An exited child's time is counted
once its parent has reaped it (the kernel adds it to the parent's children times), so PostgreSQL
backends that come and go, and gunicorn workers that are replaced, are not lost.
"""
from __future__ import annotations

from dataclasses import dataclass

import psutil

LOAD_GENERATOR = "load generator"


def _tree_seconds(pid: int) -> float:
    """CPU of a process and its descendants. A descendant that exits between the listing and its
    reading may already sit in its parent's children times, read earlier: then read the tree again."""
    for _ in range(10):
        try:
            root = psutil.Process(pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            raise RuntimeError(f"process {pid} is gone: its part's CPU cannot be measured") from None
        total = 0.0
        try:
            for process in processes:
                t = process.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            continue
        return total
    raise RuntimeError(f"the processes below {pid} kept changing while being read")


def _own_seconds() -> float:
    """This process's own threads (the load generator), not the children it reaped earlier."""
    t = psutil.Process().cpu_times()
    return t.user + t.system


@dataclass
class CpuMeter:
    """``parts`` maps a name to the pid at the top of that part; ``LOAD_GENERATOR`` is this process."""

    parts: dict[str, int]

    @classmethod
    def of_stack(cls, stack, ferret, kafka) -> CpuMeter:
        """The running ``Stack``'s web and worker processes, its FerretDB, PostgreSQL and Kafka."""
        parts = {f"{name} web": child.proc.pid for name, child in stack.webs.items()}
        parts |= {f"{name} worker": child.proc.pid for name, child in stack.workers.items()}
        parts["FerretDB"] = ferret.child.proc.pid
        if ferret.postgres is not None:
            parts["PostgreSQL"] = ferret.postgres.child.proc.pid
        parts["Kafka"] = kafka.child.proc.pid
        return cls(parts)

    def read(self) -> dict[str, float]:
        seconds = {name: _tree_seconds(pid) for name, pid in self.parts.items()}
        seconds[LOAD_GENERATOR] = _own_seconds()
        return seconds

    def since(self, before: dict[str, float], parts=None) -> CpuSpent:
        """What each part (or each of ``parts``) spent since ``before = meter.read()``."""
        after = self.read()
        spent = {name: after[name] - before.get(name, 0.0) for name in after if parts is None or name in parts}
        if any(seconds < 0 for seconds in spent.values()):
            raise RuntimeError(f"CPU time went backwards (a process restarted?): {spent}")
        return CpuSpent(spent)


@dataclass
class CpuSpent:
    seconds: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def per(self, n: int, top: int = 6) -> str:
        """``"web 5.0 ms, PostgreSQL 3.0 ms, …; total 13 ms"`` per unit of work, biggest first."""
        ranked = sorted(self.seconds.items(), key=lambda kv: kv[1], reverse=True)
        shown = [f"{name} {seconds * 1000 / n:.1f} ms" for name, seconds in ranked[:top] if seconds > 0]
        rest = sum(seconds for _, seconds in ranked[top:])
        if rest > 0:
            shown.append(f"the rest {rest * 1000 / n:.1f} ms")
        return ", ".join(shown) + f"; total {self.total * 1000 / n:.1f} ms"

    def ceiling(self, n: int, cores: int) -> float:
        """The rate the stack's own CPU per unit (the load generator's left out) allows when every core
        does nothing else."""
        stack = self.total - self.seconds.get(LOAD_GENERATOR, 0.0)
        return n * cores / stack if stack > 0 else float("inf")
