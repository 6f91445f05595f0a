"""The web composition of the notifications service: `create_app` (served by `wsgi.py`)."""
from __future__ import annotations

from flask import Flask

from services.notifications.bootstrap import build_components
from services.notifications.settings import NotificationsSettings
from services.notifications.web import managers, parents
from services.notifications.web.errors import PROBLEMS
from shared.clock import Clock, utc_now
from shared.errors import install_domain_error_mapping
from shared.runtime import Runtime
from shared.web import create_service_app

TITLE = "Guichet — notifications"
DESCRIPTION = ("Tells parents of every decision by email, in-app inbox or letter, from events; reminds them before "
               "an offered place expires and when a campaign they follow opens. Managers see and retry what could "
               "not be delivered, and the mail room takes the letters to print.")


def create_app(settings: NotificationsSettings | None = None, *, clock: Clock = utc_now) -> Flask:
    settings = settings or NotificationsSettings.from_env("notifications")
    runtime = Runtime(settings)
    app = create_service_app(settings, title=TITLE, description=DESCRIPTION, readiness=runtime.readiness_checks(),
                             blueprints=[parents.blp, managers.blp])
    install_domain_error_mapping(app, PROBLEMS)
    app.extensions["guichet.runtime"] = runtime
    build_components(settings, runtime, clock).init_app(app)
    return app
