"""A parent's join (`PUT /waiting-rooms/{campaign}/place`) and poll (`GET` of it) answered before Flask: at an
opening the room's crowd sends them by the hundred a second into the processes that also serve the admitted
families' submissions, and Flask's request, hooks, routing and schema cost more than the answer itself
(docs/PERFORMANCE.md, "Waiting room poll"). Here: the bearer token checked by the service's own verifier (the
same object Flask's `require_roles` uses), the room's use case (`WaitingRooms.join` / `.place`, the one
implementation of its rules, one Redis script call), and the JSON written directly.

Only the ordinary answer (200, a parent's place) is given here. Anything else — no or a bad token, another role,
no room, a room not open or closed, an unexpected error — is handed to Flask, whose route (web/parents/
waiting_room.py, which also documents the resource in OpenAPI) answers it with the same problem as before:
the auth rules and the problems stay in one place each. Beyond `in_flight` joins and polls served at once by
this process, the request is refused at once: 503 + Retry-After (problem+json, `waiting-room-busy`), nothing
read or written; the waiting page asks again after it (services/portal/web/waiting_room.py): a join within
seconds, a poll after the interval the room's poll budget gives. Joins and polls are counted apart, each against
`in_flight`: a crowd of joins never takes the places of the polls by which admitted families learn of it. A refused join carries an arrival ticket
(header `Arrival-Ticket`, and `arrival_ticket` in the problem): signed with the room's secret, bound to a hash of
the bearer token (not verified here: that would cost what the refusal saves), no Redis. Presented on the join that
follows, it gives the family the place its first arrival earned (docs/registrations.md, "Arrival tickets")."""
from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from services.registrations.domain.waiting_room import JoinRetries, echoed_backoff, poll_after, refused_poll_retry
from services.registrations.usecases.intake import InFlight, IntakeSaturated
from services.registrations.usecases.waiting_room import PlaceView, WaitingRooms
from services.registrations.web.parents.shedding import WsgiApp, refuse
from shared.auth import Principal, bearer_token
from shared.errors import ServiceUnavailable, problem_document
from shared.observability import HTTP_LATENCY, HTTP_REQUESTS, REQUEST_ID_HEADER, request_id_of

# werkzeug's `uuid` converter, which Flask's route uses: a path it would not route is left to it.
PLACE_PATH = re.compile(r"/waiting-rooms/([A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-"
                        r"[A-Fa-f0-9]{12})/place")
ENDPOINT = "/waiting-rooms/<uuid:campaign_id>/place"  # the metrics' label Flask gives the route
PARENT = ("parent",)
# Said by the room's processes and by the edge alike: the edge keeps no place for a join it refuses (no arrival
# ticket), so the detail promises a place only to a family that has one.
BUSY_DETAIL = "The waiting room is answering as many families as it can right now. Ask again after Retry-After: " \
              "a family that has its place keeps it, a refused join sends back its arrival ticket if it got one."
# A refused join comes back at the first second the process's join budget has room for (`JoinRetries`), its place
# in arrival order kept by the arrival ticket it is given. A refused poll keeps its place: it comes back no sooner
# than the room would have told that family (the Poll-Backoff its page sent back, `refused_poll_retry`), or, from a
# page that sent none, after the interval the room's poll budget gives its crowd (`domain.waiting_room.poll_after`).
# Either way refusals do not feed a storm of retries.
ARRIVAL_TICKET = "Arrival-Ticket"  # a refused join's ticket, given and sent back by this header
# The seconds a family's next poll waits should it be refused as busy (`PlaceView.poll_backoff_seconds`): given with
# every place, sent back by the page with its next poll, read by the edge's refusal and this process's.
POLL_BACKOFF = "Poll-Backoff"
POLL_BACKOFF_ENVIRON = "HTTP_" + POLL_BACKOFF.upper().replace("-", "_")
# The Retry-After of a join the edge refused (it keeps no place: nginx signs no arrival ticket), given with that
# refusal and sent back by the page with its next join: refused again, that join waits longer
# (`domain.waiting_room.JoinBackoff`, deploy/local/servers/nginx.py).
JOIN_BACKOFF = "Join-Backoff"
SUBMISSION_PATH = "/applications"
ADMITTED = "HTTP_ADMISSION_TOKEN"  # a submission carrying the room's admission token: its latency steers the pace
LONGEST_QUEUE_S = 60.0  # an X-Request-Start further back than this is a clock apart, not a wait: ignored
TICKET_OUTCOME = "Arrival-Ticket-Outcome"  # what the join made of it (TicketOutcome)


class Verifier(Protocol):
    """What the fast path needs of the service's token verifier (shared.auth)."""

    def verify(self, token: str) -> Principal: ...


def place_json(view: PlaceView) -> bytes:
    """`PlaceSchema`'s document (web/schemas.py), written directly (the test compares the two)."""
    return json.dumps({
        "campaign_id": str(view.campaign_id), "state": str(view.state), "phase": str(view.phase),
        "opens_at": _instant(view.opens_at), "position": view.position, "ahead": view.ahead,
        "waiting": view.waiting, "pace_per_minute": float(view.pace_per_minute),
        "estimated_wait_seconds": view.estimated_wait_seconds, "poll_after_seconds": view.poll_after_seconds,
        "joined_at": _instant(view.joined_at), "admitted_at": _instant(view.admitted_at),
        "admission_token": view.admission_token,
        "admission_token_expires_at": _instant(view.admission_token_expires_at),
    }, separators=(",", ":")).encode()


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class AnswerRoomBeforeFlask:
    """WSGI middleware around registrations' app: a parent's joins and polls answered here (see the module)."""

    def __init__(self, app: WsgiApp, rooms: WaitingRooms, verifier: Verifier, in_flight: InFlight,
                 service_name: str = "registrations", rng: random.Random | None = None,
                 polls_in_flight: InFlight | None = None):
        """`in_flight`: the joins' bound; the polls' (`polls_in_flight`) is one of the same limit unless given."""
        self.app, self.rooms, self.verifier, self.in_flight = app, rooms, verifier, in_flight
        self.polls_in_flight = polls_in_flight or InFlight(in_flight.limit, in_flight.retry_after)
        self.rng = rng or random.Random()
        self._service = service_name
        self._busy: dict[int, bytes] = {}  # Retry-After → the problem's body
        self._join_retries = JoinRetries(rooms.join_budget)
        self._join_retries_lock = threading.Lock()
        self._waiting: dict[UUID, int] = {}  # campaign → families waiting, as this process last read it
        self._counters = {(method, status): HTTP_REQUESTS.labels(service_name, ENDPOINT, method, status)
                          for method in ("GET", "PUT") for status in ("200", "503")}
        self._latency = {method: HTTP_LATENCY.labels(service_name, ENDPOINT, method) for method in ("GET", "PUT")}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if method != "GET" and method != "PUT":
            if method == "POST" and environ.get("PATH_INFO") == SUBMISSION_PATH and ADMITTED in environ:
                return self._measure_submission(environ, start_response)
            return self.app(environ, start_response)
        match = PLACE_PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None:
            return self.app(environ, start_response)
        started = time.perf_counter()
        in_flight = self.in_flight if method == "PUT" else self.polls_in_flight
        try:
            in_flight.enter()
        except IntakeSaturated:
            return self._refuse_busy(method, UUID(match[1]), environ, start_response)
        try:
            view = self._place(environ, method, UUID(match[1]))
        finally:
            in_flight.leave()
        if view is None:
            return self.app(environ, start_response)  # Flask gives every other answer, as it always did
        self._waiting[view.campaign_id] = view.waiting
        body = place_json(view)
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                   ("Retry-After", str(view.poll_after_seconds)), ("Cache-Control", "no-store"),
                   (REQUEST_ID_HEADER, request_id_of(incoming)), (POLL_BACKOFF, str(view.poll_backoff_seconds))]
        if view.arrival_ticket is not None:
            headers.append((TICKET_OUTCOME, str(view.arrival_ticket)))
        start_response("200 OK", headers)
        self._counters[method, "200"].inc()
        self._latency[method].observe(time.perf_counter() - started)
        return [body]

    def _refuse_busy(self, method: str, campaign_id: UUID, environ: dict,
                     start_response: Callable) -> Iterable[bytes]:
        self._counters[method, "503"].inc()
        if method == "PUT":
            with self._join_retries_lock:
                seconds = self._join_retries.retry_after(time.time())
        elif (backoff := echoed_backoff(environ.get(POLL_BACKOFF_ENVIRON), self.rooms.poll_budget)) is not None:
            seconds = refused_poll_retry(backoff, self.rooms.poll_budget, self.rng)
        else:
            seconds = poll_after(None, self._waiting.get(campaign_id, 0), 0, self.rooms.poll_budget, self.rng)
        body = self._busy.get(seconds)
        if body is None:
            body = self._busy.setdefault(seconds, json.dumps(problem_document(
                503, "waiting-room-busy", ServiceUnavailable.title, BUSY_DETAIL, None, retry_after=seconds)).encode())
        token = bearer_token(environ.get("HTTP_AUTHORIZATION", ""))
        if method != "PUT" or not token:
            return refuse(body, seconds, start_response)
        try:
            arrival = self.rooms.refused_arrival(campaign_id, token, environ.get("HTTP_ARRIVAL_TICKET"))
        except Exception:  # noqa: BLE001 — the secret unreadable (Redis down before any join): refused all the same
            return refuse(body, seconds, start_response)
        # base64url, digits, a UUID and dots: nothing to escape in JSON
        body = body[:-1] + b',"arrival_ticket":"' + arrival.encode() + b'"}'

        def with_ticket(status: str, headers: list, exc_info=None):
            return start_response(status, [*headers, (ARRIVAL_TICKET, arrival)], exc_info)

        return refuse(body, seconds, with_ticket)

    def _measure_submission(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """An admitted family's submission, timed around everything this process does for it (intake's shedding,
        Flask, the view), from when the ingress received it if it says so (X-Request-Start): what the family
        waits, which the pace controller reads. A shed (503) counts as too slow."""
        started = time.perf_counter()
        queued = _queued_seconds(environ.get("HTTP_X_REQUEST_START", ""), time.time())
        status = []

        def recording(line: str, headers: list, exc_info=None):
            status.append(line)
            return start_response(line, headers, exc_info)

        answer = self.app(environ, recording)
        code = status[0][:3] if status else ""
        if code.startswith("2") or code == "503":
            try:
                self.rooms.record_submission((queued + time.perf_counter() - started) * 1000, shed=code == "503")
            except Exception:  # noqa: BLE001 — Redis unreachable: the family's answer matters more than the sample
                pass
        return answer

    def _place(self, environ: dict, method: str, campaign_id: UUID) -> PlaceView | None:
        """The family's place, or None for Flask to answer (any refusal, any error)."""
        token = bearer_token(environ.get("HTTP_AUTHORIZATION", ""))
        if not token:
            return None
        try:
            self.rooms.arrival_tickets()  # the secret read now (from Redis when no setting names it), not at a refusal
            principal = self.verifier.verify(token)
            if not principal.has_any(PARENT):
                return None
            if method == "PUT":
                return self.rooms.join(principal.subject, campaign_id, environ.get("HTTP_ARRIVAL_TICKET"), token)
            return self.rooms.place(principal.subject, campaign_id)
        except Exception:  # noqa: BLE001 — Flask's route answers it again, with its own problem or error handling
            return None


def _queued_seconds(request_start: str, now: float) -> float:
    """How long the ingress says the request waited before reaching this process: X-Request-Start `t=<epoch>` in
    seconds (nginx's `${msec}`), milliseconds or microseconds; 0 without one or beyond belief."""
    try:
        value = float(request_start.removeprefix("t="))
    except ValueError:
        return 0.0
    for scale in (1e6, 1e3, 1.0):  # microseconds, milliseconds, seconds: whichever lands near now
        waited = now - value / scale
        if 0 <= waited <= LONGEST_QUEUE_S:
            return waited
    return 0.0
