"""Application factory of the campaigns service."""
from __future__ import annotations

from flask import Flask

from services.campaigns import api, public_api
from services.campaigns.bootstrap import EXTENSION, build_components
from shared.clock import Clock, utc_now
from shared.config import Settings
from shared.runtime import Runtime
from shared.web import create_service_app

TITLE = "Guichet — campaigns"
DESCRIPTION = (
    "Campaign managers configure application windows (Europe/Paris), offers, capacities, eligibility, allocation "
    "policy and tariff grids; the public reads open and upcoming campaigns. Datetimes are read as Europe/Paris "
    "wall-clock time when they carry no offset, and written in Paris time with their offset."
)


def create_app(settings: Settings | None = None, clock: Clock = utc_now) -> Flask:
    settings = settings or Settings.from_env("campaigns")
    runtime = Runtime(settings)
    app = create_service_app(settings, title=TITLE, description=DESCRIPTION,
                             blueprints=[api.blp, public_api.blp], readiness=runtime.readiness_checks())
    app.extensions["guichet.runtime"] = runtime
    app.extensions[EXTENSION] = build_components(runtime, clock)
    return app
