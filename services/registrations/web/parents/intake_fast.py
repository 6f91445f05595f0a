"""A parent's `POST /applications` answered before Flask: the opening's crowd sends nothing else, and Flask's
request, hooks, routing, webargs and flask-smorest cost about as much as the submission's own work (docs/
PERFORMANCE.md, "Under gunicorn: where the CPU goes"). Here: the bearer token checked by the service's own
verifier (the object Flask's `require_roles` uses), the body checked as strictly as `SubmissionSchema`, the
waiting room's admission and intake's use case (`Intake.submit`, the one implementation of its rules), and the
acknowledgement written directly, the same bytes as Flask's (a test compares them).

Only the ordinary answers are given here: 202 received, and a key's stored 202 replayed. Anything else is handed to
Flask, whose route (web/parents/applications.py, which also documents the operation in OpenAPI) answers it with
the same problem as before: no or a bad token, another role, a body or key the route would refuse or that this
reader does not know (it knows only the ordinary shape: anything unusual goes to the route, which decides), and
every refusal or error of the submission. A submission refused or failed after intake's Redis script ran (it
counted admission, may have claimed the key) is handed over with what happened (`HANDED`): the route raises it
again where its own call would have, so its clean-up and problem are the usual ones and nothing is counted or
claimed twice."""
from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.registrations.store.intake_gate import Entry, Replay
from services.registrations.store.intake_guard import Hold
from services.registrations.usecases.intake import Acknowledgement, Intake, Submission
from services.registrations.usecases.waiting_room import WaitingRooms
from services.registrations.web.parents.shedding import INTAKE_PATH, WsgiApp
from services.registrations.web.parents.waiting_room_fast import PARENT, Verifier
from services.registrations.web.schemas import MAX_CHOICES, MAX_SIBLINGS
from shared.auth import bearer_token
from shared.idempotency import HEADER as IDEMPOTENCY_HEADER
from shared.idempotency import MAX_KEY_LENGTH, StoredResponse, body_fingerprint, key_scope
from shared.observability import HTTP_LATENCY, HTTP_REQUESTS, REQUEST_ID_HEADER
from shared.web import MAX_JSON_DEPTH

HANDED = "guichet.intake_handed"  # in the WSGI environ: a submission the fast path ran, for the route to answer
ADMISSION_TOKEN = "HTTP_ADMISSION_TOKEN"  # the waiting room's token (applications.ADMISSION_HEADER)
IDEMPOTENCY_KEY = "HTTP_" + IDEMPOTENCY_HEADER.upper().replace("-", "_")
# The canonical form only (what uuid.UUID accepts is wider: braces, a urn, no hyphens): the route reads the rest.
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_REQUIRED = frozenset(("campaign_id", "child_id", "choices", "sworn_statement"))
_FIELDS = _REQUIRED | {"keep_with_applications"}


@dataclass(frozen=True)
class Handed:
    """A submission the fast path ran as far as `error`: the route answers it (applications.py)."""
    entry: Entry
    error: BaseException


def submission_fields(document: bytes) -> dict[str, Any] | None:
    """`SubmissionSchema().load` of the body for an ordinary one; None for anything the schema would refuse, and for
    what it would accept in a less usual form (a UUID in braces, "true" for true, an unknown field's handling): the
    route reads those. So it is never more lenient than the schema (a test feeds both the same bad bodies)."""
    try:
        body = json.loads(document.decode("utf-8"))  # webargs' reading of a JSON body
    except ValueError:
        return None
    if not isinstance(body, dict) or not _REQUIRED <= body.keys() <= _FIELDS:
        return None
    campaign_id, child_id = _uuid(body["campaign_id"]), _uuid(body["child_id"])
    choices = _uuids(body["choices"], 1, MAX_CHOICES)
    keep_with = _uuids(body.get("keep_with_applications", []), 0, MAX_SIBLINGS)
    sworn = body["sworn_statement"]
    if campaign_id is None or child_id is None or choices is None or keep_with is None or type(sworn) is not bool:
        return None
    return {"campaign_id": campaign_id, "child_id": child_id, "choices": choices,
            "keep_with_applications": keep_with, "sworn_statement": sworn}


def _uuid(value: Any) -> UUID | None:
    return UUID(value) if type(value) is str and _UUID.fullmatch(value) else None


def _uuids(value: Any, least: int, most: int) -> list[UUID] | None:
    if type(value) is not list or not least <= len(value) <= most:
        return None
    read = [_uuid(item) for item in value]
    return None if None in read else read


def hold_message(hold: Hold) -> str:
    if hold.kind == "held":
        return "Place réservée : votre demande est enregistrée et la place vous est gardée."
    if hold.kind == "waitlisted":
        return f"Liste d'attente n°{hold.position} : votre demande est enregistrée."
    return "Demande enregistrée : les places seront attribuées après la clôture des inscriptions."


def acknowledgement(ack: Acknowledgement, status_url: str) -> dict[str, Any]:
    """The 202's document (AcknowledgementSchema), the route's and the fast path's."""
    return {"application_id": ack.application_id, "campaign_id": ack.campaign_id, "status": "received",
            "submitted_at": ack.submitted_at, "status_url": status_url, "hold": ack.hold.as_dict(),
            "message": hold_message(ack.hold)}


def acknowledgement_json(document: dict[str, Any]) -> bytes:
    """What Flask answers for `AcknowledgementSchema`'s dump of `document` (its JSON provider: keys sorted, ASCII,
    compact, a final newline); the test compares the two."""
    hold = document["hold"]
    return (json.dumps({
        "application_id": str(document["application_id"]), "campaign_id": str(document["campaign_id"]),
        "status": document["status"], "submitted_at": document["submitted_at"].isoformat(),
        "status_url": document["status_url"], "message": document["message"],
        "hold": {"kind": hold["kind"], "offer_id": None if hold["offer_id"] is None else str(hold["offer_id"]),
                 "position": hold["position"]},
    }, sort_keys=True, separators=(",", ":")) + "\n").encode()


class AnswerIntakeBeforeFlask:
    """WSGI middleware around registrations' Flask app, inside the shedding (ShedSubmissions holds the request's
    place in InFlight): a parent's ordinary submissions answered here (see the module)."""

    def __init__(self, app: WsgiApp, intake: Intake, rooms: WaitingRooms, verifier: Verifier, max_body_bytes: int,
                 service_name: str = "registrations"):
        self.app, self.intake, self.rooms, self.verifier = app, intake, rooms, verifier
        self.max_body_bytes = max_body_bytes
        self._accepted = HTTP_REQUESTS.labels(service_name, INTAKE_PATH, "POST", "202")
        self._latency = HTTP_LATENCY.labels(service_name, INTAKE_PATH, "POST")

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != INTAKE_PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        started = time.perf_counter()
        document = self._body(environ)
        if document is None:
            return self.app(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(document)  # read again by Flask if the route answers
        answer = self._submit(environ, document)
        if answer is None:
            return self.app(environ, start_response)
        status, headers, body = answer
        # The id RequestIdScope decided, outermost (app.py), and wrote back for every layer inside it.
        start_response(status, [*headers, ("Content-Length", str(len(body))),
                                (REQUEST_ID_HEADER, environ["HTTP_X_REQUEST_ID"])])
        self._accepted.inc()
        self._latency.observe(time.perf_counter() - started)
        return [body]

    def _body(self, environ: dict) -> bytes | None:
        """The body, when the route's body limits (shared/web.py) would let it through and it is JSON; None
        otherwise (nothing read)."""
        if environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower() != "application/json":
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        if not 0 < length <= self.max_body_bytes:
            return None
        document = environ["wsgi.input"].read(length)
        if len(document) != length or document.count(b"[") + document.count(b"{") > MAX_JSON_DEPTH:
            environ["wsgi.input"] = io.BytesIO(document)
            return None
        return document

    def _submit(self, environ: dict, document: bytes) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """The 202 (received or replayed) as status, headers and body; None for the route to answer."""
        token = bearer_token(environ.get("HTTP_AUTHORIZATION", ""))
        key = environ.get(IDEMPOTENCY_KEY, "").strip()
        if not token or not key or len(key) > MAX_KEY_LENGTH:
            return None
        fields = submission_fields(document)
        if fields is None:
            return None
        try:
            principal = self.verifier.verify(token)
            if not principal.has_any(PARENT):
                return None
            family = principal.subject
            self.rooms.check_admission(family, fields["campaign_id"], environ.get(ADMISSION_TOKEN))
        except Exception:  # noqa: BLE001 — nothing was done: the route answers it again, with its own problem
            return None
        entry = Entry(environ.get("REMOTE_ADDR") or "unknown", key_scope(family, "POST", INTAKE_PATH), key,
                      body_fingerprint(document))
        try:
            ack = self.intake.submit(family, Submission(idempotency_key=key, **fields), entry)
        except Replay as replay:
            stored = replay.response
            return (f"{stored.status} ACCEPTED", [*stored.headers.items(), ("Idempotent-Replayed", "true")],
                    stored.body) if stored.status == 202 else self._hand(environ, entry, replay)
        except Exception as error:  # noqa: BLE001 — a refusal or a failure: the route answers what happened
            return self._hand(environ, entry, error)
        path = environ.get("SCRIPT_NAME", "") + f"{INTAKE_PATH}/{ack.application_id}"
        body = acknowledgement_json(acknowledgement(ack, path))
        headers = {"Content-Type": "application/json", "Location": path}
        self.intake.gate.acknowledged(entry, StoredResponse(202, headers, body))
        return "202 ACCEPTED", list(headers.items()), body

    @staticmethod
    def _hand(environ: dict, entry: Entry, error: BaseException) -> None:
        environ[HANDED] = Handed(entry, error)
        return None
