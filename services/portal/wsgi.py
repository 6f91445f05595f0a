"""gunicorn entry point: `gunicorn -c deploy/gunicorn.conf.py services.portal.wsgi:app`."""
from services.portal.app import create_app

app = create_app()
