"""Applications API for parents: submit during a campaign's window, follow, withdraw, answer an offer.

Refusals are the domain's and use cases' exceptions, turned into problems by `web.errors`. A submission
(`intake_entry`) is first shed if this process already serves all it holds; admission, its
Idempotency-Key and the holds are then settled in one Redis round trip (store/intake_gate.py). A parent's
ordinary submission (202 received or replayed) is answered before Flask (intake_fast.py): this route answers
every other, and documents the operation.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from uuid import UUID

from flask import Response, g, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from services.registrations.bootstrap import RegistrationsComponents
from services.registrations.store.intake_gate import Entry, IntakeGate, Replay
from services.registrations.store.ledger import application_view, family_applications
from services.registrations.store.pending import pending_application
from services.registrations.usecases.intake import HouseholdUnsettled, IntakeSaturated, OnBehalf, Submission
from services.registrations.web.parents.intake_fast import HANDED, Handed, acknowledgement
from services.registrations.web.parents.shedding import SLOT_TAKEN
from services.registrations.web.schemas import AcknowledgementSchema, ApplicationSchema, SubmissionSchema
from shared.audit_web import request_actor
from shared.auth import current_principal, require_roles
from shared.errors import PROBLEM_CONTENT_TYPE, NotFound, ServiceUnavailable
from shared.idempotency import (
    declare_header,
    idempotent,
    replayed,
    request_fingerprint,
    request_key,
    request_scope,
    run_view,
    stored_response,
)
from shared.web import ProblemSchema

ADMISSION_HEADER = "Admission-Token"  # the waiting room's token (web/parents/waiting_room.py)

blp = Blueprint("applications", __name__, url_prefix="/applications",
                description="Submit an application during a campaign's window, follow it, withdraw it.")


def intake_entry(view: Callable) -> Callable:
    """View decorator, outermost, of a submission: shed at once when this process serves all it holds (503,
    nothing recorded; a parent's `POST /applications` was already shed or let through before Flask, by
    web/parents/shedding.py); otherwise the view runs with `g.intake_entry`, its Idempotency-Key's answer is kept
    with the pending marker after a 2xx, and a request refused before intake's script is still counted by
    admission and meets its key's stored answer, as if admission and the key had been checked first."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        intake = RegistrationsComponents.current().intake
        if request.environ.get(SLOT_TAKEN):  # a parent's submission, let through before Flask (shedding.py)
            return _serve(view, args, kwargs, intake.gate)
        try:
            intake.in_flight.enter()
        except IntakeSaturated as shed:
            raise ServiceUnavailable("Guichet is taking as many applications as it can right now; retry in a few "
                                     "seconds with the same Idempotency-Key. Nothing was recorded.",
                                     code="intake-saturated", headers={"Retry-After": str(shed.retry_after)},
                                     retry_after=shed.retry_after) from None
        try:
            return _serve(view, args, kwargs, intake.gate)
        finally:
            intake.in_flight.leave()

    declare_header(wrapper)
    return wrapper


def _serve(view: Callable, args: tuple, kwargs: dict, gate: IntakeGate) -> Response:
    ip = request.remote_addr or "unknown"
    entry: Entry | None = None
    handed: Handed | None = request.environ.get(HANDED)
    try:
        try:
            current_principal()  # who asks comes first: no credentials is a 401, whatever the key
            # A submission run before Flask as far as its refusal (intake_fast.py): its entry says what it counted
            # and claimed, for the clean-up below.
            entry = handed.entry if handed is not None else Entry(ip, request_scope(), request_key(),
                                                                  request_fingerprint())
            g.intake_entry = entry
            response = run_view(view, args, kwargs)
        except Replay:
            raise
        except BaseException:
            if entry is None or not entry.counted:
                gate.refused(ip, entry)
            elif entry.claimed:
                gate.abandon(entry)
            raise
        if 200 <= response.status_code < 300:
            gate.acknowledged(entry, stored_response(response))
        elif not entry.counted:
            gate.refused(ip, entry)
        else:
            gate.abandon(entry)
        return response
    except Replay as replay:
        return replayed(replay.response)


def family_application(family_account: str, application_id: UUID) -> dict[str, Any] | None:
    """One of the family's applications with its history; acknowledged but not in the ledger yet (a second or so
    after its 202), `pending` from intake's marker; None when the family has no such application."""
    components = RegistrationsComponents.current()
    found = application_view(components.engine, application_id, family_account)
    if found is not None:
        return found
    pending = pending_application(components.redis, application_id)
    if pending is not None and pending["family_account"] == family_account:
        return {**pending, "status": "pending", "history": [], "arrival_position": None}
    return None


def _parent_path(application_id: UUID) -> str:
    return url_for("applications.Application", application_id=application_id)


def submit_for(family_account: str, body: dict[str, Any], on_behalf: OnBehalf | None = None,
               follow: Callable[[UUID], str] | None = None) -> tuple[dict[str, Any], int, dict[str, str]]:
    """A submission for `family_account` inside `intake_entry`: the waiting room's admission, then intake (a city
    agent's for the family with `on_behalf`, held to the same rules); 202 with where to follow it (`follow`: the
    application id → its path; the parent's GET /applications/{id} by default)."""
    components = RegistrationsComponents.current()
    rooms = components.waiting_rooms
    entry: Entry = g.intake_entry
    handed: Handed | None = request.environ.get(HANDED)
    if handed is None:  # the fast path checked the admission before it ran the submission
        rooms.check_admission(family_account, body["campaign_id"], request.headers.get(ADMISSION_HEADER))
    try:
        if handed is not None:  # what intake_fast.py's run of this submission met, raised where it would have been
            raise handed.error
        ack = components.intake.submit(family_account, Submission(idempotency_key=entry.idempotency_key, **body),
                                       entry, on_behalf)
    except HouseholdUnsettled:
        raise ServiceUnavailable("Your household changed while you applied; retry: it is safe to press again.",
                                 code="intake-unavailable", headers={"Retry-After": "1"}, retry_after=1) from None
    status_url = (follow or _parent_path)(ack.application_id)
    return acknowledgement(ack, status_url), 202, {"Location": status_url}


@blp.route("")
class Applications(MethodView):
    @intake_entry
    @require_roles("parent")
    # An instance, not the class: given a class, webargs builds a new schema on every request.
    @blp.arguments(SubmissionSchema())
    @blp.response(202, AcknowledgementSchema)
    @blp.alt_response(403, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE,
                      description="The campaign's waiting room admits families: no valid Admission-Token (code and "
                                  "reason admission-token-missing, -invalid, -expired or -foreign)")
    @blp.alt_response(503, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE,
                      description="Nothing was recorded; retry after Retry-After with the same Idempotency-Key: "
                                  "intake-saturated (load shedding) or intake-unavailable (broker or Redis)")
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "required": True, "schema": {"type": "string"},
                          "description": "a new random value per intended submission; resend it when retrying"},
                         {"in": "header", "name": ADMISSION_HEADER, "required": False, "schema": {"type": "string"},
                          "description": "while the campaign's waiting room admits: the token it gave you"}])
    def post(self, body):
        """Submit an application (202 once it is safely kept)

        While the campaign's waiting room admits, send the admission token it gave you (Admission-Token)."""
        return submit_for(current_principal().subject, body)

    @require_roles("parent")
    @blp.response(200, ApplicationSchema(many=True))
    def get(self):
        """My household's applications in the ledger, newest first"""
        return family_applications(RegistrationsComponents.current().engine, current_principal().subject)


@blp.route("/<uuid:application_id>")
class Application(MethodView):
    @require_roles("parent")
    @blp.response(200, ApplicationSchema)
    def get(self, application_id: UUID):
        """One of my applications, with its history"""
        found = family_application(current_principal().subject, application_id)
        if found is None:
            raise NotFound("No application of yours has this id.", code="application-not-found")
        return found


@blp.route("/<uuid:application_id>/withdraw")
class Withdrawal(MethodView):
    @idempotent(lambda: RegistrationsComponents.current().idempotency)
    @require_roles("parent")
    @blp.response(200, ApplicationSchema)
    def post(self, application_id: UUID):
        """Withdraw my application (a place it held goes to the next family)"""
        return RegistrationsComponents.current().answers.withdraw(current_principal().subject, application_id,
                                                                  actor=request_actor("parent"))


@blp.route("/<uuid:application_id>/accept")
class Acceptance(MethodView):
    @idempotent(lambda: RegistrationsComponents.current().idempotency)
    @require_roles("parent")
    @blp.response(200, ApplicationSchema)
    def post(self, application_id: UUID):
        """Accept the place offered, before its deadline"""
        return RegistrationsComponents.current().answers.answer(current_principal().subject, application_id, accept=True,
                                                                actor=request_actor("parent"))


@blp.route("/<uuid:application_id>/decline")
class Declination(MethodView):
    @idempotent(lambda: RegistrationsComponents.current().idempotency)
    @require_roles("parent")
    @blp.response(200, ApplicationSchema)
    def post(self, application_id: UUID):
        """Decline the place offered: it goes to the next child on the waitlist"""
        return RegistrationsComponents.current().answers.answer(current_principal().subject, application_id, accept=False,
                                                                actor=request_actor("parent"))
