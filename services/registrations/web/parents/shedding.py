"""Load shedding of submissions at the WSGI layer, before Flask: a `POST /applications` that this process cannot
serve at once (`InFlight`, usecases/intake.py) is answered 503 + Retry-After (problem+json, `intake-saturated`)
without building a request, reading its body, checking its token or running a hook. Under a crowd the refusal
competes for the interpreter with the submissions being served: the fewer steps it takes, the sooner it leaves
(measured in docs/PERFORMANCE.md, "Load shedding"). A request let through holds its place in `InFlight` until
Flask has answered it; submissions on other paths (an agent's for a family) are shed by `intake_entry`."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from services.registrations.usecases.intake import InFlight, IntakeSaturated
from shared.errors import PROBLEM_CONTENT_TYPE, ServiceUnavailable, problem_document
from shared.observability import HTTP_REQUESTS, REQUEST_ID_HEADER, request_id_of

INTAKE_PATH = "/applications"
SLOT_TAKEN = "guichet.intake_slot"  # in the WSGI environ: this request holds its place in InFlight already
SHED_DETAIL = ("Guichet is taking as many applications as it can right now; retry in a few seconds with the same "
               "Idempotency-Key. Nothing was recorded.")

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def shed_body(retry_after: int) -> bytes:
    """The problem Flask's handlers would give for `ServiceUnavailable(code="intake-saturated")`."""
    return json.dumps(problem_document(503, "intake-saturated", ServiceUnavailable.title, SHED_DETAIL, INTAKE_PATH,
                                       retry_after=retry_after)).encode()


class ShedSubmissions:
    """WSGI middleware around registrations' app: submissions beyond `in_flight`'s bound are refused here."""

    def __init__(self, app: WsgiApp, in_flight: InFlight, service_name: str = "registrations"):
        self.app, self.in_flight = app, in_flight
        self._shed_count = HTTP_REQUESTS.labels(service_name, INTAKE_PATH, "POST", "503")
        self._bodies: dict[int, bytes] = {}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != INTAKE_PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        try:
            self.in_flight.enter()
        except IntakeSaturated as shed:
            return self._refuse(shed.retry_after, environ.get("HTTP_X_REQUEST_ID", ""), start_response)
        environ[SLOT_TAKEN] = True
        try:
            return self.app(environ, start_response)  # Flask's answer is complete when it returns
        finally:
            self.in_flight.leave()

    def _refuse(self, retry_after: int, request_id: str, start_response: Callable) -> Iterable[bytes]:
        body = self._bodies.get(retry_after)
        if body is None:
            body = self._bodies.setdefault(retry_after, shed_body(retry_after))
        self._shed_count.inc()
        return refuse(body, retry_after, start_response, request_id)


def refuse(body: bytes, retry_after: int, start_response: Callable, request_id: str = "") -> Iterable[bytes]:
    """A prepared 503 problem+json, answered without Flask; the client's X-Request-ID echoed as Flask's hook does
    (shared/observability.py), a new one otherwise."""
    start_response("503 SERVICE UNAVAILABLE", [("Content-Type", PROBLEM_CONTENT_TYPE),
                                               ("Content-Length", str(len(body))),
                                               ("Retry-After", str(retry_after)),
                                               ("Cache-Control", "no-store"),
                                               (REQUEST_ID_HEADER, request_id_of(request_id))])
    return [body]
