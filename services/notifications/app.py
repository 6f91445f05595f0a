"""Application factory of the notifications service."""
from __future__ import annotations

from flask import Flask

from shared.config import Settings
from shared.runtime import Runtime
from shared.web import create_service_app

TITLE = "Guichet — notifications"
DESCRIPTION = "Tells parents of every decision by email, in-app inbox or letter, from events; feeds billing."


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("notifications")
    runtime = Runtime(settings)
    app = create_service_app(settings, title=TITLE, description=DESCRIPTION, readiness=runtime.readiness_checks())
    app.extensions["guichet.runtime"] = runtime
    return app
