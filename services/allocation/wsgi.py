"""gunicorn entry point: `gunicorn -c deploy/gunicorn.conf.py services.allocation.wsgi:app`."""
from services.allocation.app import create_app

app = create_app()
