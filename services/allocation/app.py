"""Application factory of the allocation service."""
from __future__ import annotations

from flask import Flask

from services.allocation import api, parent_api, public_api
from services.allocation.bootstrap import EXTENSION, build_components
from shared.clock import Clock, utc_now
from shared.config import Settings
from shared.runtime import Runtime
from shared.web import create_service_app

TITLE = "Guichet — allocation"
DESCRIPTION = "Allocates places by priority criteria, verifiable lottery or arrival order, manages waitlists and place offers, and explains every decision."


def create_app(settings: Settings | None = None, clock: Clock = utc_now) -> Flask:
    settings = settings or Settings.from_env("allocation")
    runtime = Runtime(settings)
    app = create_service_app(settings, title=TITLE, description=DESCRIPTION,
                             blueprints=[api.blp, public_api.blp, parent_api.blp], readiness=runtime.readiness_checks())
    app.extensions["guichet.runtime"] = runtime
    app.extensions[EXTENSION] = build_components(runtime, clock)
    return app
