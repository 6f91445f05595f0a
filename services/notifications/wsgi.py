"""gunicorn entry point: `gunicorn -c deploy/gunicorn.conf.py services.notifications.wsgi:app`."""
from services.notifications.app import create_app

app = create_app()
