"""Application factory of the notifications service."""
from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Callable

from flask import Flask

from services.notifications import inbox_api, manager_api, subscriptions_api
from services.notifications.api_context import EXTENSION, NotificationsContext
from shared.config import Settings
from shared.runtime import Runtime
from shared.web import create_service_app

TITLE = "Guichet — notifications"
DESCRIPTION = ("Tells parents of every decision by email, in-app inbox or letter, from events; reminds them before "
               "an offered place expires and when a campaign they follow opens. Managers see and retry what could "
               "not be delivered, and the mail room takes the letters to print.")


def create_app(settings: Settings | None = None, clock: Callable[[], datetime] = partial(datetime.now, UTC)) -> Flask:
    settings = settings or Settings.from_env("notifications")
    runtime = Runtime(settings)
    app = create_service_app(settings, title=TITLE, description=DESCRIPTION, readiness=runtime.readiness_checks(),
                             blueprints=[inbox_api.blp, subscriptions_api.blp, manager_api.failures_blueprint,
                                         manager_api.letters_blueprint])
    app.extensions["guichet.runtime"] = runtime
    app.extensions[EXTENSION] = NotificationsContext(runtime.engine, clock)
    return app
