"""The allocation service's web composition: the Flask app with its three audiences' blueprints."""
from __future__ import annotations

from flask import Flask

from services.allocation.bootstrap import build_components
from services.allocation.settings import AllocationSettings
from services.allocation.web import managers, parents, public
from services.allocation.web.errors import PROBLEMS
from shared.clock import Clock, utc_now
from shared.errors import install_domain_error_mapping
from shared.runtime import Runtime
from shared.web import create_service_app

TITLE = "Guichet — allocation"
DESCRIPTION = "Allocates places by priority criteria, verifiable lottery or arrival order, manages waitlists and place offers, and explains every decision."


def create_app(settings: AllocationSettings | None = None, *, clock: Clock = utc_now) -> Flask:
    settings = settings or AllocationSettings.from_env("allocation")
    runtime = Runtime(settings)
    app = create_service_app(settings, title=TITLE, description=DESCRIPTION,
                             blueprints=[managers.blp, public.blp, parents.blp], readiness=runtime.readiness_checks())
    app.extensions["guichet.runtime"] = runtime
    build_components(settings, runtime, clock).init_app(app)
    install_domain_error_mapping(app, PROBLEMS)
    return app
