"""Entry point for gunicorn: `gunicorn services.portal.wsgi:app`."""
from services.portal.app import create_app

app = create_app()
