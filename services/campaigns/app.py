"""Application factory of the campaigns service."""
from __future__ import annotations

from flask import Flask

from shared.config import Settings
from shared.runtime import Runtime
from shared.web import create_service_app

TITLE = "Guichet — campaigns"
DESCRIPTION = "Campaign managers configure application windows (Europe/Paris), offers, capacities, eligibility, allocation policy and tariff grids; the public reads open and upcoming campaigns."


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("campaigns")
    runtime = Runtime(settings)
    app = create_service_app(settings, title=TITLE, description=DESCRIPTION, readiness=runtime.readiness_checks())
    app.extensions["guichet.runtime"] = runtime
    return app
