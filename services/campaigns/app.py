"""The campaigns service's web composition: the Flask app with its managers' and public blueprints."""
from __future__ import annotations

from flask import Flask

from services.campaigns.bootstrap import build_components
from services.campaigns.settings import CampaignsSettings
from services.campaigns.web import managers, public
from services.campaigns.web.errors import PROBLEMS
from shared.clock import Clock, utc_now
from shared.errors import install_domain_error_mapping
from shared.runtime import Runtime
from shared.web import create_service_app

TITLE = "Guichet — campaigns"
DESCRIPTION = (
    "Campaign managers configure application windows (Europe/Paris), offers, capacities, eligibility, allocation "
    "policy and tariff grids; the public reads open and upcoming campaigns. Datetimes are read as Europe/Paris "
    "wall-clock time when they carry no offset, and written in Paris time with their offset."
)


def create_app(settings: CampaignsSettings | None = None, *, clock: Clock = utc_now) -> Flask:
    settings = settings or CampaignsSettings.from_env("campaigns")
    runtime = Runtime(settings)
    app = create_service_app(settings, title=TITLE, description=DESCRIPTION,
                             blueprints=[managers.blp, public.blp], readiness=runtime.readiness_checks(),
                             # A campaign created with its offers (at most MAX_OFFERS, web/schemas.py).
                             max_body_bytes=1024 * 1024)
    app.extensions["guichet.runtime"] = runtime
    build_components(settings, runtime, clock).init_app(app)
    install_domain_error_mapping(app, PROBLEMS)
    return app
