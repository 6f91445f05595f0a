"""JSON logs carrying the request id, and Prometheus metrics per endpoint."""
from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from contextvars import ContextVar

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"

HTTP_REQUESTS = Counter("guichet_http_requests_total", "HTTP requests handled", ["service", "endpoint", "method", "status"])
HTTP_LATENCY = Histogram("guichet_http_request_duration_seconds", "HTTP request latency", ["service", "endpoint", "method"],
                         buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))


# The id of the request this thread is serving, for the logs of the paths answered before Flask (no `g` there).
_current_request_id: ContextVar[str | None] = ContextVar("guichet_request_id", default=None)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current_request_id.get()
        if record.request_id is None:
            try:
                record.request_id = g.get("request_id")
            except RuntimeError:  # outside a request (workers, start-up)
                pass
        return True


def configure_logging(service_name: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"asctime": "time", "levelname": "level"},
                                       static_fields={"service": service_name}))
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("kafka").setLevel(max(logging.WARNING, root.level))


def request_id_of(incoming: str) -> str:
    """The client's X-Request-ID when it is a sane one, a new one otherwise: Flask's hook and the WSGI paths
    answered before Flask give the same."""
    return incoming if 0 < len(incoming) <= 128 else uuid.uuid4().hex


class RequestIdScope:
    """The outermost WSGI layer: the request's id decided once, before any layer answers (the client's sane
    X-Request-ID, a new one otherwise), written back into the environ so that every layer inside and Flask's hook
    give the same one, and held for the logs while the request is served, Flask or not."""

    def __init__(self, app: Callable[[dict, Callable], Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request_id = request_id_of(environ.get("HTTP_X_REQUEST_ID", ""))
        environ["HTTP_X_REQUEST_ID"] = request_id
        held = _current_request_id.set(request_id)
        try:
            return self.app(environ, start_response)
        finally:
            _current_request_id.reset(held)


def install_request_tracking(app: Flask, service_name: str) -> None:
    @app.before_request
    def _start() -> None:
        g.request_id = request_id_of(request.headers.get(REQUEST_ID_HEADER, ""))
        g.started_at = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        HTTP_REQUESTS.labels(service_name, endpoint, request.method, str(response.status_code)).inc()
        if "started_at" in g:
            HTTP_LATENCY.labels(service_name, endpoint, request.method).observe(time.perf_counter() - g.started_at)
        return response


def metrics_response() -> Response:
    # Under gunicorn each worker is a process: with PROMETHEUS_MULTIPROC_DIR set, sum them all.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
