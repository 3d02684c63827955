"""Periodic jobs that run in a process of their own (shared.worker.in_own_process): roster imports."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from mongoengine.connection import get_db

from shared import db
from shared.worker import in_own_process, stop_job_processes

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def record_pid(settings) -> None:
    """The job: say which process ran it, in the service's own database."""
    get_db(settings.service)["job_runs"].insert_one({"pid": os.getpid(), "service": settings.service})


def record_pid_and_wait(settings) -> None:
    record_pid(settings)
    time.sleep(120)


def fail(settings) -> None:
    raise RuntimeError("the job cannot go on")


@pytest.fixture
def members_settings(settings_for):
    settings = settings_for("members")
    db.connect(settings)
    yield settings
    get_db(settings.service).client.drop_database(settings.database)


def runs_of(settings):
    return get_db(settings.service)["job_runs"]


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def alive(pid: int) -> bool:
    """Running, and not a zombie nobody reaped yet."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def test_a_job_runs_in_a_spawned_process_with_the_workers_settings_only_when_there_is_work(members_settings):
    runs = runs_of(members_settings)
    assert in_own_process(record_pid, when=lambda: False)(members_settings) == 0
    assert runs.count_documents({}) == 0

    job = in_own_process(record_pid, when=lambda: True)
    assert job.__name__ == "record_pid"
    assert job(members_settings) == 1  # the settings reach it as given: the environment names no database
    [run] = list(runs.find())
    assert run["pid"] != os.getpid() and run["service"] == "members"


def test_a_failing_job_process_is_started_again_only_after_a_pause(members_settings, caplog):
    started = []
    job = in_own_process(fail, when=lambda: started.append(1) or True)
    assert job(members_settings) == 1
    assert any(r.getMessage() == "job process failed" and r.exitcode == 1 for r in caplog.records)
    assert job(members_settings) == 0 and len(started) == 1  # within the pause: not even asked


def test_a_stopping_worker_ends_its_job_processes(members_settings, caplog):
    job = in_own_process(record_pid_and_wait, when=lambda: True)
    thread = threading.Thread(target=job, args=(members_settings,))
    thread.start()
    pid = wait_for(lambda: (runs_of(members_settings).find_one() or {}).get("pid"))
    stop_job_processes()
    thread.join(timeout=10)
    assert not thread.is_alive() and not alive(pid)
    assert not any(r.getMessage() == "job process failed" for r in caplog.records)


def test_a_job_process_ends_when_its_worker_is_killed(members_settings):
    # the job runs from a thread, as a worker's periodic jobs do (the kernel's signal follows that thread)
    script = ("import sys, threading; from shared.config import Settings; from shared.worker import in_own_process; "
              "from tests.integration.test_worker_processes import record_pid_and_wait as job; "
              "settings = Settings(service='members', mongo_url=sys.argv[1], db_prefix=sys.argv[2], "
              "log_level='WARNING'); "
              "threading.Thread(target=in_own_process(job, when=lambda: True), args=(settings,)).start()")
    worker = subprocess.Popen([sys.executable, "-c", script, members_settings.mongo_url, members_settings.db_prefix],
                              cwd=ROOT)
    try:
        pid = wait_for(lambda: (runs_of(members_settings).find_one() or {}).get("pid"))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        wait_for(lambda: not alive(pid), timeout=10)
    finally:
        worker.kill()


def test_a_job_that_would_start_as_the_worker_stops_does_not_start(members_settings):
    def stop_first():
        stop_job_processes()  # the worker stops between the job's check and its process's start
        return True

    assert in_own_process(record_pid, when=stop_first)(members_settings) == 0
    assert runs_of(members_settings).count_documents({}) == 0


def test_only_a_module_level_function_can_run_in_its_own_process():
    with pytest.raises(ValueError, match="module-level"):
        in_own_process(lambda settings: None, when=lambda: True)
