"""gunicorn entry point: ``gunicorn services.members.wsgi:app``."""
from . import create_app

app = create_app()
