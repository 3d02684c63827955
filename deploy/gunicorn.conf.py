"""gunicorn settings shared by every service (local runs and the image).

The app is imported in each worker after fork (no preload), so database and
Kafka clients are never shared across processes.
"""
import os

bind = os.environ.get("GONGHUI_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GONGHUI_WEB_WORKERS", "2"))
worker_class = "sync"
timeout = 30
graceful_timeout = 10
preload_app = False
accesslog = None
control_socket_disable = True  # gunicorn 27: one shared socket path would clash between services
errorlog = "-"
