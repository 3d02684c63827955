"""bench/cpu.py counts a part's CPU, including children that exited and were reaped."""
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from bench.cpu import LOAD_GENERATOR, CpuMeter, CpuSpent

SPIN = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\n"


def test_a_parts_cpu_includes_children_that_exited():
    # the part's top is a shell; its Python child burns 0.4 s of CPU and exits, and the shell reaps it
    shell = subprocess.Popen(["/bin/sh", "-c", f"{sys.executable} -c '{SPIN}'; sleep 30"], start_new_session=True)
    try:
        meter = CpuMeter({"part": shell.pid})
        deadline = time.monotonic() + 10
        while not any(c.name() == "sleep" for c in psutil.Process(shell.pid).children()):
            if time.monotonic() > deadline:
                pytest.fail("the spinner did not finish")
            time.sleep(0.05)
        # the spinner is gone: its time now lives only in the shell's children times
        spent = meter.since({"part": 0.0}, parts={"part"})
        assert set(spent.seconds) == {"part"}
        assert 0.35 <= spent.seconds["part"] < 5
    finally:
        os.killpg(shell.pid, signal.SIGKILL)
        shell.wait()


def test_per_unit_figures_and_the_stacks_ceiling():
    spent = CpuSpent({"web": 6.0, "PostgreSQL": 3.0, "Kafka": 1.0, LOAD_GENERATOR: 0.5})
    assert spent.per(1000, top=2) == "web 6.0 ms, PostgreSQL 3.0 ms, the rest 1.5 ms; total 10.5 ms"
    assert spent.ceiling(1000, cores=2) == 200  # the load generator's CPU is not the stack's


def test_a_part_that_is_gone_is_an_error_not_zero():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with pytest.raises(RuntimeError, match="is gone"):
        CpuMeter({"part": gone.pid}).read()
