"""The Flask application every service builds on: OpenAPI, problem+json, auth, health, metrics, logs."""
from __future__ import annotations

import http
from collections.abc import Iterable

import marshmallow as ma
from apispec import BasePlugin
from flask import Flask, jsonify
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from werkzeug.middleware.proxy_fix import ProxyFix

from shared.auth import BEARER_SCHEME, TokenVerifier
from shared.config import Settings
from shared.errors import (
    PROBLEM_CONTENT_TYPE,
    handle_http_exception,
    install_dependency_error_handlers,
    install_error_handlers,
)
from shared.health import Check, run_checks
from shared.observability import configure_logging, install_request_tracking, metrics_response


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every error of this API is returned."""
    type = ma.fields.String(metadata={"description": "URI naming the kind of problem"})
    title = ma.fields.String(metadata={"description": "Short human summary of the kind of problem"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    code = ma.fields.String(metadata={"description": "Stable machine-readable code"})
    detail = ma.fields.String(metadata={"description": "What went wrong with this request"})
    instance = ma.fields.String(metadata={"description": "The request path"})
    errors = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "One entry per wrong field: field (dotted path), pointer (JSON pointer), detail"})


class ProblemContentPlugin(BasePlugin):
    """Error responses a view documents with `alt_response(..., schema=ProblemSchema)` are sent as
    application/problem+json: say so in the OpenAPI document, whatever content type the view left."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            for status, response in (operation.get("responses") or {}).items():
                content = response.get("content") if isinstance(response, dict) else None
                if str(status).startswith(("4", "5")) and content and "application/json" in content:
                    content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")


class ProblemApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        return handle_http_exception(error)

    def _register_responses(self):
        """flask-smorest documents error responses as application/json; ours are application/problem+json."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def create_service_app(settings: Settings, *, title: str, description: str,
                       blueprints: Iterable[Blueprint] = (), readiness: dict[str, Check] | None = None,
                       serving_without: Iterable[str] = (), token_verifier: TokenVerifier | None = None) -> Flask:
    configure_logging(settings.service_name, settings.log_level)
    app = Flask(settings.service_name)
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    app.config.update(
        API_TITLE=title,
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        API_SPEC_OPTIONS={"info": {"description": description}},
        JSON_SORT_KEYS=False,
    )
    app.extensions["guichet.settings"] = settings
    app.extensions["guichet.token_verifier"] = token_verifier or TokenVerifier.from_file(
        settings.jwt_public_key_file, settings.jwt_issuer, settings.jwt_audience)
    install_error_handlers(app)
    install_dependency_error_handlers(app)
    api = ProblemApi(app, spec_kwargs={"extra_plugins": [ProblemContentPlugin()]})
    api.spec.components.security_scheme("bearerAuth", BEARER_SCHEME)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    app.extensions["guichet.api"] = api
    install_request_tracking(app, settings.service_name)
    checks = dict(readiness or {})
    not_gating = frozenset(serving_without)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="alive", service=settings.service_name)

    @app.get("/readyz")
    def readyz():
        status, results = run_checks(checks, not_gating)
        return jsonify(status=status, service=settings.service_name, checks=results), (
            503 if status == "unready" else 200)

    @app.get("/metrics")
    def metrics():
        return metrics_response()

    return app
