"""gunicorn entry point: ``gunicorn services.welfare.wsgi:app``."""
from . import create_app

app = create_app()
