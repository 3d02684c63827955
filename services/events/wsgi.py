"""gunicorn entry point: ``gunicorn services.events.wsgi:app``."""
from . import create_app

app = create_app()
