"""deploy/gunicorn.conf.py's master hook: the service's modules are imported before the fork, its
wsgi module (which builds the app and its clients) is not, and an app outside a package starts."""
import subprocess
import sys

from shared.localinfra.cache import REPO_ROOT

PROBE = """
import runpy, sys, types
conf = runpy.run_path("deploy/gunicorn.conf.py")
conf["on_starting"](types.SimpleNamespace(app=types.SimpleNamespace(app_uri=sys.argv[1])))
print(",".join(sorted(m for m in sys.modules if m.startswith("services."))))
"""


def imported_after_hook(app_uri: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, app_uri], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return set(filter(None, done.stdout.strip().split(",")))


def test_the_master_imports_the_service_but_not_its_wsgi_module():
    modules = imported_after_hook("services.members.wsgi:app")
    assert {"services.members.api.members", "services.members.worker", "services.members.app.registration"} <= modules
    assert "services.members.wsgi" not in modules


def test_an_app_outside_a_package_starts_without_imports():
    assert imported_after_hook("echo_app:app") == set()
