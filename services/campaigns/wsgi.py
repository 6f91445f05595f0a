"""gunicorn entry point: `gunicorn -c deploy/gunicorn.conf.py services.campaigns.wsgi:app`."""
from services.campaigns.app import create_app

app = create_app()
