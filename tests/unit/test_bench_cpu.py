"""bench/cpu.py counts a part's CPU, including children that exited and were reaped."""
import subprocess
import sys
import time

import psutil

from bench.cpu import CpuMeter, CpuSpent

SPIN = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\n"


def test_a_parts_cpu_includes_children_that_exited():
    # the part's top is a shell; its Python child burns 0.4 s of CPU and exits, and the shell reaps it
    shell = subprocess.Popen(["/bin/sh", "-c", f"{sys.executable} -c '{SPIN}'; sleep 30"])
    try:
        meter = CpuMeter({"part": [shell.pid]})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            children = psutil.Process(shell.pid).children()
            if children and all(c.name() == "sleep" for c in children):
                break  # the spinner is gone: its time now lives only in the shell's children times
            time.sleep(0.05)
        spent = meter.since({"part": 0.0}, parts={"part"})
        assert set(spent.seconds) == {"part"}
        assert 0.35 <= spent.seconds["part"] < 5
    finally:
        shell.kill()
        shell.wait()


def test_per_unit_figures_and_ceiling():
    spent = CpuSpent({"web": 6.0, "PostgreSQL": 3.0, "Kafka": 1.0, "load generator": 0.0})
    assert spent.per(1000, top=2) == "web 6.0 ms, PostgreSQL 3.0 ms, the rest 1.0 ms; total 10.0 ms"
    assert spent.ceiling(1000, cores=2) == 200
