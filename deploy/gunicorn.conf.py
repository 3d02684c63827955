"""gunicorn settings shared by every service (local runs and the image).

The app is created in each worker after fork (no preload_app), so database and
Kafka clients are never shared across processes; the master imports the
service's code beforehand, so each worker forks with it loaded. gunicorn's own
lines and the access log are JSON like the application's, with the request id.
"""
import importlib
import os
import pkgutil

bind = os.environ.get("GONGHUI_BIND", "0.0.0.0:8000")
# two per core by default: measured here (2 cores, registrations at 20 clients) 2 workers gave 125 req/s,
# 4 gave 150 and 8 gave 137; sync workers, because the work is CPU and short database round trips
workers = int(os.environ.get("GONGHUI_WEB_WORKERS") or 2 * (os.cpu_count() or 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 10
preload_app = False
control_socket_disable = True  # gunicorn 27: one shared socket path would clash between services


def on_starting(server):
    """Import every module of the service except its wsgi entry point (which creates the app and its
    clients). Importing has no side effects here, so this only saves each worker the imports: its boot
    falls from about 2 s of CPU to a fork and create_app. An app outside a package (the bench's echo
    baseline) has nothing to import beforehand."""
    package_name = server.app.app_uri.partition(":")[0].rpartition(".")[0]
    if not package_name:
        return
    package = importlib.import_module(package_name)
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not module.name.endswith(".wsgi"):
            importlib.import_module(module.name)


accesslog = "-"
access_log_format = '%(m)s %(U)s %(s)s %(B)sB %(M)sms request_id=%({x-request-id}o)s'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "pythonjsonlogger.json.JsonFormatter",
                            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {"gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
                "gunicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False}},
}
