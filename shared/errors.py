"""RFC 9457 problem details for every error a Guichet service returns.

Domain code raises `Problem` (or a subclass) with a stable `code`; validation errors from
marshmallow/webargs are reshaped so each wrong field is named with a JSON pointer.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

PROBLEM_CONTENT_TYPE = "application/problem+json"
log = logging.getLogger(__name__)


class Problem(Exception):
    status: int = 400
    code: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str | None = None, *, status: int | None = None, code: str | None = None,
                 title: str | None = None, errors: Iterable[Mapping[str, Any]] = (),
                 headers: Mapping[str, str] | None = None, **extensions: Any):
        super().__init__(detail or title or self.title)
        self.status = status or self.status
        self.code = code or self.code
        self.title = title or self.title
        self.detail = detail
        self.errors = [dict(e) for e in errors]
        self.headers = dict(headers or {})
        self.extensions = extensions


class NotFound(Problem):
    status, code, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, code, title = 409, "conflict", "Conflict"


class Unprocessable(Problem):
    status, code, title = 422, "unprocessable", "The request breaks a rule"


class Unauthorized(Problem):
    status, code, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status, code, title = 403, "forbidden", "Not allowed"


class ServiceUnavailable(Problem):
    status, code, title = 503, "unavailable", "Temporarily unavailable"


class PayloadTooLarge(Problem):
    status, code, title = 413, "body-too-large", "The request body is too large"


class TooManyRequests(Problem):
    status, code, title = 429, "too-many-requests", "Too many requests"


def field_error(field: str, detail: str, code: str | None = None) -> dict[str, Any]:
    pointer = "#/" + field.replace(".", "/")
    error: dict[str, Any] = {"field": field, "pointer": pointer, "detail": detail}
    if code:
        error["code"] = code
    return error


def problem_type(code: str) -> str:
    return f"urn:guichet:problem:{code}"


def problem_document(status: int, code: str, title: str, detail: str | None = None, instance: str | None = None,
                     errors: list[dict[str, Any]] | None = None, **extensions: Any) -> dict[str, Any]:
    """An RFC 9457 problem's members, as every service answers them (also outside Flask: a WSGI layer's refusal)."""
    body: dict[str, Any] = {"type": problem_type(code), "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    body["instance"] = instance
    if errors:
        body["errors"] = errors
    body.update(extensions)
    return body


def problem_response(status: int, code: str, title: str, detail: str | None = None,
                     errors: list[dict[str, Any]] | None = None, headers: Mapping[str, str] | None = None,
                     **extensions: Any) -> Response:
    body = problem_document(status, code, title, detail, request.path if request else None, errors, **extensions)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_validation_messages(messages: Any, prefix: str = "") -> list[dict[str, Any]]:
    """{"json": {"offers": {"0": {"capacity": ["Must be ≥ 0"]}}}} -> [{"field": "offers.0.capacity", ...}]"""
    if isinstance(messages, Mapping):
        errors: list[dict[str, Any]] = []
        for key, value in messages.items():
            # webargs nests errors under the request location; the field path starts below it
            if not prefix and key in ("json", "query", "querystring", "headers", "form", "files", "path", "view_args"):
                errors.extend(flatten_validation_messages(value, "" if key == "json" else f"{key}."))
                continue
            errors.extend(flatten_validation_messages(value, f"{prefix}{key}."))
        return errors
    if isinstance(messages, (list, tuple)) and all(isinstance(m, str) for m in messages):
        field = prefix.rstrip(".") or "body"
        return [field_error(field, message) for message in messages]
    if isinstance(messages, (list, tuple)):
        return [e for m in messages for e in flatten_validation_messages(m, prefix)]
    return [field_error(prefix.rstrip(".") or "body", str(messages))]


def handle_http_exception(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    errors = flatten_validation_messages(messages) if messages else None
    code = {422: "validation-failed", 400: "bad-request"}.get(error.code or 500, (error.name or "error").lower().replace(" ", "-"))
    title = "The request is not valid" if errors else (error.name or "Error")
    detail = data.get("message") or (None if errors else error.description)
    return problem_response(error.code or 500, code, title, detail, errors, data.get("headers"))


def handle_problem(problem: Problem) -> Response:
    return problem_response(problem.status, problem.code, problem.title, problem.detail, problem.errors or None,
                            problem.headers, **problem.extensions)


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.path})
    return problem_response(500, "internal-error", "Internal error",
                            "Something went wrong on our side. The error is logged with this request id.")


def handle_dependency_unavailable(error: Exception) -> Response:
    log.warning("dependency unavailable", extra={"path": request.path, "error": type(error).__name__})
    return problem_response(503, "dependency-unavailable", "Temporarily unavailable",
                            "A service Guichet depends on is restarting. Nothing was recorded; retry in a few seconds.",
                            headers={"Retry-After": "3"}, retry_after=3)


def install_dependency_error_handlers(app: Flask) -> None:
    """A database, cache or broker that is away is the server's temporary state, not a bug: 503 + Retry-After."""
    import kafka.errors
    import redis.exceptions
    import sqlalchemy.exc

    for error in (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError,
                  sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, kafka.errors.KafkaConnectionError,
                  kafka.errors.KafkaTimeoutError):
        app.register_error_handler(error, handle_dependency_unavailable)


def install_error_handlers(app: Flask) -> None:
    app.register_error_handler(Problem, handle_problem)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)


ProblemFor = Callable[[Exception], Problem]


def install_domain_error_mapping(app: Flask, mapping: Mapping[type[Exception], ProblemFor]) -> None:
    """Domain exceptions become problems here, at the web edge, and nowhere else: use cases and domains
    raise their own exceptions (`WindowClosed`, `RuleViolation`); each service's `web/errors.py` says which
    problem each one is (`{WindowClosed: lambda e: Conflict(...)}`) and calls this from its app factory."""
    for exception_class, problem_for in mapping.items():
        def handle(error: Exception, problem_for: ProblemFor = problem_for) -> Response:
            return handle_problem(problem_for(error))
        app.register_error_handler(exception_class, handle)

