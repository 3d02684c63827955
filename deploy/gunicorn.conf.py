"""gunicorn settings shared by every service (local runs and the image).

The app is imported in each worker after fork (no preload), so database and
Kafka clients are never shared across processes. gunicorn's own lines and the
access log are JSON like the application's, with the request id.
"""
import os

bind = os.environ.get("GONGHUI_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GONGHUI_WEB_WORKERS", "2"))
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
