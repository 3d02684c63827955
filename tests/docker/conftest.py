from __future__ import annotations

import pytest


def docker_engine_reason() -> str | None:
    """None when a Docker engine answers; otherwise why the tests skip."""
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return None
    except Exception as exc:  # no socket, no permission, no daemon
        return f"no Docker engine reachable ({type(exc).__name__}); testcontainers tests need one"


@pytest.fixture(scope="session")
def docker_engine():
    reason = docker_engine_reason()
    if reason:
        print(f"\nSKIP docker tier: {reason}")
        pytest.skip(reason)
