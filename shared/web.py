"""The Flask application every service builds on: OpenAPI, problem+json, auth, health, metrics, logs."""
from __future__ import annotations

import http
import re
from collections.abc import Iterable

import marshmallow as ma
import swagger_ui_bundle
from apispec import BasePlugin
from flask import Flask, Response, current_app, jsonify, request, send_from_directory
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from werkzeug.middleware.proxy_fix import ProxyFix

from shared.auth import BEARER_SCHEME, TokenVerifier, verifier_from_settings
from shared.config import Settings
from shared.errors import (
    PROBLEM_CONTENT_TYPE,
    PayloadTooLarge,
    Problem,
    TooManyRequests,
    field_error,
    handle_http_exception,
    install_dependency_error_handlers,
    install_error_handlers,
)
from shared.health import Check, run_checks
from shared.observability import RequestIdScope, configure_logging, install_request_tracking, metrics_response
from shared.rate_limit import ClientBudget, OverBudget

# A service's largest request body unless it says otherwise (create_service_app's max_body_bytes): every form
# and JSON body of the API is a few kilobytes. The edge proxy caps bodies too (deploy/local/servers/nginx.py).
DEFAULT_MAX_BODY_BYTES = 256 * 1024
# The deepest JSON a request may nest: our bodies nest 4 levels; Python's parser recurses once per level.
MAX_JSON_DEPTH = 32
_JSON_STRUCTURE = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_BODY_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


def json_depth(document: bytes) -> int:
    """How deeply `document` nests arrays and objects (brackets inside strings do not count)."""
    depth = deepest = 0
    for token in _JSON_STRUCTURE.finditer(document):
        mark = token.group()
        if mark in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif mark in (b"]", b"}"):
            depth -= 1
    return deepest


def install_body_limits(app: Flask, max_body_bytes: int, max_json_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse a body over `max_body_bytes` with a 413 problem before reading it (Content-Length; a chunked body
    is cut at the limit by werkzeug, MAX_CONTENT_LENGTH), and a JSON body nested deeper than `max_json_depth`
    with a 400 problem before parsing it: the parser would recurse into a RecursionError. A blueprint whose bodies
    are larger (an upload) sets `request.max_content_length` in a url_value_preprocessor, which runs before this."""
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes

    @app.before_request
    def refuse_oversized_or_deep_bodies():
        if request.method not in _BODY_METHODS:
            return
        length, limit = request.content_length, request.max_content_length or max_body_bytes
        if length is not None and length > limit:
            too_large = f"A request body here is at most {limit} bytes."
            raise PayloadTooLarge(too_large, errors=[field_error("body", too_large)])
        if not request.is_json:
            return
        document = request.get_data(cache=True)
        # Two C-speed counts settle every ordinary body; only one with that many brackets is walked.
        if document.count(b"[") + document.count(b"{") > max_json_depth and json_depth(document) > max_json_depth:
            detail = f"JSON nested deeper than {max_json_depth} levels."
            raise Problem(detail, code="body-too-deep", title="The request body is nested too deeply",
                          errors=[field_error("body", detail)])


def within_budget(budget: ClientBudget) -> None:
    """Count this request against the client address' budget (a view's or a blueprint's before_request);
    over it, a 429 problem with Retry-After. Behind a proxy the address comes from TRUSTED_PROXIES' ProxyFix."""
    try:
        budget.check(request.remote_addr or "unknown")
    except OverBudget as over:
        raise TooManyRequests("Too many requests from this address; retry shortly.", code="rate-limited",
                              headers={"Retry-After": str(over.retry_after)}, retry_after=over.retry_after) from None


def install_swagger_ui_files(app: Flask) -> str:
    """Swagger UI's script and style served by the service itself (the swagger-ui-bundle wheel, a pinned
    version), not loaded from a CDN: /docs runs no third-party script. Returns their URL prefix."""
    folder = swagger_ui_bundle.swagger_ui_path

    @app.get("/docs/static/<path:filename>")
    def swagger_ui_file(filename: str):
        return send_from_directory(folder, filename, max_age=86400)

    return "/docs/static/"


def install_allow_on_405(app: Flask) -> None:
    """Every 405 names the methods the resource does answer in an `Allow` header (RFC 9110, 15.5.6), whichever
    handler wrote the 405 (routing, a problem+json handler, a view): the methods come from the URL map."""

    @app.after_request
    def name_the_allowed_methods(response: Response) -> Response:
        if response.status_code == 405 and "Allow" not in response.headers:
            adapter = current_app.create_url_adapter(request)
            methods = sorted(adapter.allowed_methods()) if adapter is not None else []
            if methods:
                response.headers["Allow"] = ", ".join(methods)
        return response


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
    retry_after = ma.fields.Integer(metadata={
        "description": "Seconds to wait before retrying (429 and 503; the same as the Retry-After header)"})


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
                       serving_without: Iterable[str] = (), token_verifier: TokenVerifier | None = None,
                       max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, request_id_scope: bool = True) -> Flask:
    """`request_id_scope=False` for a service that puts layers of its own around Flask (registrations' paths
    answered before it): it wraps them all in the one RequestIdScope, outermost, which decides the id for them and
    for Flask's hook."""
    configure_logging(settings.service_name, settings.log_level)
    app = Flask(settings.service_name)
    if request_id_scope:
        app.wsgi_app = RequestIdScope(app.wsgi_app)
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    app.config.update(
        API_TITLE=title,
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=install_swagger_ui_files(app),
        API_SPEC_OPTIONS={"info": {"description": description}},
        JSON_SORT_KEYS=False,
    )
    app.extensions["guichet.settings"] = settings
    app.extensions["guichet.token_verifier"] = token_verifier or verifier_from_settings(settings)
    install_error_handlers(app)
    install_dependency_error_handlers(app)
    install_body_limits(app, max_body_bytes)
    install_allow_on_405(app)
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
