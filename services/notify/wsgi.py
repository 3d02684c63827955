"""gunicorn entry point: ``gunicorn services.notify.wsgi:app``."""
from . import create_app

app = create_app()
