"""Application factory of the portal: server-rendered pages in French over the other services' APIs.

Built on `shared.web.create_service_app` (logs with request ids, /healthz, /readyz, /metrics); the
pages render their own HTML errors instead of problem+json.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from services.portal.bootstrap import build_components, session_secret
from services.portal.client.readiness import reachable
from services.portal.settings import PortalSettings
from services.portal.web import (
    accessibility,
    agent_children,
    agent_documents,
    agents,
    audit,
    charts,
    choices,
    csrf,
    documents,
    history,
    letters,
    managers,
    my_data,
    parents,
    places,
    sign_in,
    waiting_room,
)
from services.portal.web.errors import install_error_pages
from services.portal.web.filters import install_filters
from services.portal.web.headers import install_security_headers
from services.portal.web.sessions import RedisSessionInterface
from services.portal.wording import help_footer
from shared.clock import Clock, utc_now
from shared.formatting import HelpChannel
from shared.health import redis_check
from shared.redis_client import make_redis
from shared.web import create_service_app

TITLE = "Guichet — portail"
DESCRIPTION = "Pages for parents, city agents and campaign managers (HTML, French); no API of its own."


def create_app(settings: PortalSettings | None = None, *, clock: Clock = utc_now) -> Flask:
    settings = settings or PortalSettings.from_env("portal")
    secret = session_secret(settings)
    sessions = make_redis(settings)
    # Ready with its sessions' Redis; a service it calls that is down leaves it degraded but in its load balancer:
    # the pages over the other services still work, and those over that one say it does not answer, where an
    # unready portal would take every page down with one service.
    upstreams = {name: reachable(url) for name, url in settings.service_urls().items()}
    app = create_service_app(settings, title=TITLE, description=DESCRIPTION,
                             readiness={"redis": redis_check(sessions), **upstreams}, serving_without=set(upstreams))
    # The shared factory names the app after the service; templates and static files live beside this module.
    app.root_path = str(Path(__file__).resolve().parent)
    app.secret_key = secret
    # Sessions in Redis, the cookie carrying only their signed id (web/sessions.py).
    app.session_interface = RedisSessionInterface(sessions, secret, settings.session_idle,
                                                  settings.secure_cookie)
    sign_in.install_sign_in(app, settings)
    install_security_headers(app, settings.oidc_issuer, settings.secure_cookie)
    build_components(settings, clock).init_app(app)
    for blueprint in (sign_in.blp, parents.blp, places.blp, my_data.blp, managers.blp, waiting_room.blp,
                      accessibility.blp, charts.blp, letters.blp, agents.blp, choices.blp, audit.blp,
                      documents.blp, agent_documents.blp, history.blp, agent_children.blp):
        app.register_blueprint(blueprint)
    app.before_request(csrf.refuse_forged_posts)
    app.jinja_env.globals["csrf_field"] = csrf.hidden_field
    app.jinja_env.globals["help_channel"] = help_footer(HelpChannel(settings.help_phone, settings.contact_form_url))
    install_filters(app)
    install_error_pages(app)
    return app
