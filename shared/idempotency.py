"""The Idempotency-Key header (IETF draft "The Idempotency-Key HTTP Header Field"), kept in Redis.

A POST carrying a key runs once. A retry with the same key and the same body gets the first
response replayed; the same key with another body is a 422; a retry while the first is still
being handled is a 409. Keys are scoped to the caller and the route and kept 24 hours.

Only successful (2xx) responses are kept. An error changed nothing, so a retry with the same key
runs again and gets a fresh answer: a parent who pressed "submit" a second before the opening,
or was told to retry in 2 s, must not be replayed that refusal forever.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import redis
from flask import Response, current_app, request
from werkzeug.exceptions import HTTPException

from shared.auth import current_principal
from shared.errors import Conflict, Problem, Unprocessable, handle_http_exception, handle_problem

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# The header as the OpenAPI document declares it on every idempotent operation (`idempotent` adds it): printable
# ASCII with at least one non-space character, at most 255; what a client generated from the document sends.
PARAMETER = {"in": "header", "name": HEADER, "required": True,
             "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
                        "pattern": "^[ -~]*[!-~][ -~]*$"},
             "description": "a new random value per intended request (a UUID will do); a retry with the same key "
                            "and body gets the first answer again"}
log = logging.getLogger(__name__)
DAY = 24 * 3600

# One round trip: claim the key if free, else return what is stored. Atomic, so two concurrent
# first attempts cannot both run.
_BEGIN = """
local stored = redis.call('GET', KEYS[1])
if stored then return stored end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
"""


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class IdempotencyStore:
    def __init__(self, client: redis.Redis, ttl_seconds: int = DAY, in_flight_seconds: int = 60,
                 namespace: str = "idem"):
        self.client = client
        self.ttl = ttl_seconds
        self.in_flight_ttl = in_flight_seconds
        self.namespace = namespace
        self._begin = client.register_script(_BEGIN)

    def redis_key(self, scope: str, key: str) -> str:
        return f"{self.namespace}:{scope}:{key}"

    def begin(self, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        """None: the caller runs the request. Otherwise the response to replay; raises when it may not run."""
        stored = self._begin(keys=[self.redis_key(scope, key)], args=[in_flight_marker(fingerprint), self.in_flight_ttl])
        if stored is None:
            return None
        return replay_of(stored, fingerprint)

    def complete(self, scope: str, key: str, fingerprint: str, response: StoredResponse) -> None:
        self.client.set(self.redis_key(scope, key), done_record(fingerprint, response), ex=self.ttl)

    def abandon(self, scope: str, key: str) -> None:
        self.client.delete(self.redis_key(scope, key))


def in_flight_marker(fingerprint: str) -> str:
    """What a claimed key holds while its request runs (a script claiming keys itself stores this)."""
    return orjson.dumps({"state": "in-flight", "fingerprint": fingerprint}).decode()


def done_record(fingerprint: str, response: StoredResponse) -> str:
    # orjson: several times faster than json.dumps on intake's path; json.loads reads it back the same.
    return orjson.dumps({"state": "done", "fingerprint": fingerprint, "status": response.status,
                         "headers": response.headers, "body": response.body.decode("latin-1")}).decode()


def replay_of(stored: str | bytes, fingerprint: str) -> StoredResponse:
    """The response a key's stored record replays; raises when the request may not run (another body: 422,
    still in flight: 409)."""
    record = json.loads(stored)
    if record["fingerprint"] != fingerprint:
        raise Unprocessable("This Idempotency-Key was used with a different request body.",
                            code="idempotency-key-reused")
    if record["state"] == "in-flight":
        raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.",
                       code="idempotency-key-in-flight", headers={"Retry-After": "1"})
    return StoredResponse(record["status"], record["headers"], record["body"].encode("latin-1"))


def request_key() -> str:
    """The current request's Idempotency-Key, checked (400 when missing or too long)."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise Problem(f"Send an {HEADER} header (a new random value per intended request).",
                      code="idempotency-key-missing", status=400)
    if len(key) > MAX_KEY_LENGTH:
        raise Problem(f"{HEADER} is longer than {MAX_KEY_LENGTH} characters.", code="idempotency-key-invalid", status=400)
    return key


def key_scope(subject: str, method: str, path: str) -> str:
    """Keys are scoped to the caller and the route."""
    return f"{subject}:{method}:{path}"


def body_fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def request_scope() -> str:
    return key_scope(current_principal().subject, request.method, request.path)


def request_fingerprint() -> str:
    return body_fingerprint(request.get_data())


def stored_response(response: Response) -> StoredResponse:
    """What a replay of `response` gives."""
    kept_headers = {h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers}
    return StoredResponse(response.status_code, kept_headers, response.get_data())


def replayed(replay: StoredResponse) -> Response:
    response = Response(replay.body, status=replay.status, headers=replay.headers)
    response.headers["Idempotent-Replayed"] = "true"
    return response


REPLAYED_HEADERS = ("Content-Type", "Location", "Retry-After", "ETag")


def idempotent(store: Callable[[], IdempotencyStore]) -> Callable:
    """View decorator (place it above the flask-smorest decorators so it sees validation errors too)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            current_principal()  # who asks comes first: no credentials is a 401, whatever the key
            key = request_key()
            scope = request_scope()
            fingerprint = request_fingerprint()
            keeper = store()
            replay = keeper.begin(scope, key, fingerprint)
            if replay is not None:
                return replayed(replay)
            try:
                response = run_view(view, args, kwargs)
            except BaseException:
                keeper.abandon(scope, key)
                raise
            try:
                if not 200 <= response.status_code < 300:
                    keeper.abandon(scope, key)
                else:
                    keeper.complete(scope, key, fingerprint, stored_response(response))
            except redis.RedisError:
                # The work is done (e.g. the application is on the broker): the answer must say so. A retry
                # meets the in-flight marker until it expires, then the operation's own guard.
                log.warning("idempotency record not updated", extra={"scope": scope})
            return response

        declare_header(wrapper)
        return wrapper

    return decorator


def declare_header(view: Callable) -> None:
    """The view's OpenAPI operation lists the header, once, as PARAMETER says (a view's own declaration of it
    keeps its description)."""
    apidoc = dict(getattr(view, "_apidoc", {}))
    manual = dict(apidoc.get("manual_doc", {}))
    parameters = [dict(p) for p in manual.get("parameters", [])]
    declared = next((p for p in parameters if p.get("in") == "header" and p.get("name") == HEADER), None)
    if declared is None:
        parameters.append(dict(PARAMETER))
    else:
        declared.update({key: value for key, value in PARAMETER.items() if key != "description"})
    manual["parameters"] = parameters
    apidoc["manual_doc"] = manual
    view._apidoc = apidoc  # type: ignore[attr-defined]


def run_view(view: Callable, args: tuple, kwargs: dict) -> Response:
    """The view's answer as a response, its problems included (so that the caller sees every status)."""
    try:
        return current_app.make_response(view(*args, **kwargs))
    except Problem as problem:
        return handle_problem(problem)
    except HTTPException as error:
        return handle_http_exception(error)
