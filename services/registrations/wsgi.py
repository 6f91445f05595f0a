"""gunicorn entry point: `gunicorn -c deploy/gunicorn.conf.py services.registrations.wsgi:app`."""
from services.registrations.app import create_app

app = create_app()
