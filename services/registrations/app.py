"""Application factory of the registrations service."""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from services.registrations.bootstrap import build_components
from services.registrations.settings import RegistrationsSettings
from services.registrations.usecases.intake import HouseholdSource, InFlight
from services.registrations.web import agent_audit, agent_documents, agents, managers, public, service
from services.registrations.web.errors import PROBLEMS
from services.registrations.web.parents import applications, choices, documents, household, waiting_room
from services.registrations.web.parents.intake_fast import AnswerIntakeBeforeFlask
from services.registrations.web.parents.shedding import ShedSubmissions
from services.registrations.web.parents.waiting_room_fast import AnswerRoomBeforeFlask
from shared.clock import Clock, utc_now
from shared.errors import install_domain_error_mapping
from shared.observability import RequestIdScope
from shared.runtime import Runtime
from shared.web import create_service_app

TITLE = "Guichet — registrations"
DESCRIPTION = ("Parents manage their household and submit applications during a campaign's window; intake is "
               "acknowledged only once Kafka holds the application.")


def create_app(settings: RegistrationsSettings | None = None, *, clock: Clock = utc_now,
               households: HouseholdSource | None = None) -> Flask:
    settings = settings or RegistrationsSettings.from_env("registrations")
    runtime = Runtime(settings)
    components = build_components(settings, runtime, clock, households)
    app = create_service_app(settings, title=TITLE, description=DESCRIPTION,
                             blueprints=[applications.blp, household.blp, managers.blp, service.blp,
                                         waiting_room.blp, public.blp, managers.room_blp, agents.blp,
                                         agent_audit.blp, choices.blp, documents.blp, agent_documents.blp],
                             readiness=runtime.readiness_checks(),
                             # Intake reads households and campaign terms from Redis and writes to Kafka: a
                             # PostgreSQL failover must not take it out of the load balancer at the opening.
                             serving_without={"database"},
                             # Its bodies are a household, a child or an application: a few hundred bytes.
                             max_body_bytes=32 * 1024,
                             # One scope, outermost (below): the paths answered before Flask are inside it.
                             request_id_scope=False)
    install_domain_error_mapping(app, PROBLEMS)
    app.extensions["guichet.runtime"] = runtime
    components.init_app(app)
    # A parent's ordinary submission is answered before Flask, inside ProxyFix when there is one (the client's
    # address counts in admission's budgets) and inside the shedding (it holds its place in InFlight).
    def answer_intake(flask_wsgi):
        return AnswerIntakeBeforeFlask(flask_wsgi, components.intake, components.waiting_rooms,
                                       app.extensions["guichet.token_verifier"], app.config["MAX_CONTENT_LENGTH"])

    if isinstance(app.wsgi_app, ProxyFix):
        app.wsgi_app.app = answer_intake(app.wsgi_app.app)
    else:
        app.wsgi_app = answer_intake(app.wsgi_app)
    # Parents' submissions beyond what this process serves at once are refused before Flask (load shedding).
    app.wsgi_app = ShedSubmissions(app.wsgi_app, components.intake.in_flight)
    # A parent's joins and polls of a waiting room are answered before Flask too, within their own bound.
    app.wsgi_app = AnswerRoomBeforeFlask(app.wsgi_app, components.waiting_rooms,
                                         app.extensions["guichet.token_verifier"],
                                         InFlight(settings.waiting_room_max_in_flight))
    # Outermost, the only one: every layer's logs carry the request's id, the one every answer gives.
    app.wsgi_app = RequestIdScope(app.wsgi_app)
    return app
