"""Application factory of the registrations service."""
from __future__ import annotations

from flask import Flask

from shared.config import Settings
from shared.runtime import Runtime
from shared.web import create_service_app

TITLE = "Guichet — registrations"
DESCRIPTION = "Parents manage their household and submit applications during a campaign's window; intake is acknowledged only once Kafka holds the application."


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("registrations")
    runtime = Runtime(settings)
    app = create_service_app(settings, title=TITLE, description=DESCRIPTION, readiness=runtime.readiness_checks())
    app.extensions["guichet.runtime"] = runtime
    return app
