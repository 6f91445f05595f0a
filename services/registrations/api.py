"""Applications API: parents submit, follow and withdraw their applications."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from zoneinfo import ZoneInfo
from uuid import UUID

import marshmallow as ma
from flask import current_app, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from services.registrations.admission import admitted
from services.registrations.domain.applications import (ApplicationInvalid, TransitionRefused, WindowClosed,
                                                        WindowNotOpenYet)
from services.registrations.intake import (BrokerUnavailable, HouseholdIncomplete, Submission, UnknownCampaign,
                                           pending_key)
from services.registrations.intake_guard import AlreadyApplied, CampaignFull, GuardNotReady, Hold, RateLimited
from services.registrations.ledger import (ApplicationNotFound, OfferNotOpen, answer_offer, application_view,
                                          counted_position, family_applications, intake_counters, withdraw)
from services.registrations.schemas import AcknowledgementSchema, ApplicationSchema, SubmissionSchema
from shared.auth import current_principal, require_roles
from shared.errors import (Conflict, NotFound, Problem, ServiceUnavailable, Unprocessable, field_error)
from shared.idempotency import HEADER as IDEMPOTENCY_HEADER
from shared.idempotency import idempotent

log = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")
blp = Blueprint("applications", __name__, url_prefix="/applications",
                description="Submit an application during a campaign's window, follow it, withdraw it.")


def context():
    return current_app.extensions["registrations"]


def paris_time(instant: datetime) -> str:
    """Windows are shown as parents read them: Paris wall-clock time, with its offset."""
    return instant.astimezone(PARIS).isoformat()


def hold_message(hold: Hold) -> str:
    if hold.kind == "held":
        return "Place réservée : votre demande est enregistrée et la place vous est gardée."
    if hold.kind == "waitlisted":
        return f"Liste d'attente n°{hold.position} : votre demande est enregistrée."
    return "Demande enregistrée : les places seront attribuées après la clôture des inscriptions."


def _submit(family_account: str, submission: Submission):
    """Turn each refusal of intake into the problem a parent can act on."""
    try:
        return context().intake.submit(family_account, submission)
    except UnknownCampaign:
        raise NotFound("No open or upcoming campaign has this id.", code="campaign-not-found")
    except WindowNotOpenYet as exc:
        raise Conflict("Applications are not open yet.", code="window-not-open", opens_at=paris_time(exc.opens_at))
    except WindowClosed as exc:
        raise Conflict("Applications are closed.", code="window-closed", closes_at=paris_time(exc.closes_at))
    except HouseholdIncomplete as exc:
        raise Unprocessable(str(exc), code="household-incomplete", errors=[field_error(exc.field, str(exc))])
    except ApplicationInvalid as exc:
        errors = [{**field_error(v.field, v.message, v.code), **({"offer_id": str(v.offer_id)} if v.offer_id else {})}
                  for v in exc.violations]
        raise Unprocessable("The application breaks the campaign's rules.", code="application-invalid", errors=errors)
    except AlreadyApplied as exc:
        raise Conflict("This child already has an application in this campaign.", code="already-applied",
                       existing_application=exc.application_id,
                       existing_application_url=url_for("applications.Application",
                                                        application_id=exc.application_id))
    except CampaignFull:
        raise Conflict("Every offer chosen is full, waitlists included.", code="campaign-full")
    except RateLimited as exc:
        raise Problem("Too many submissions from this account; retry shortly.", status=429, code="rate-limited",
                      title="Too many requests", headers={"Retry-After": str(exc.retry_after)},
                      retry_after=exc.retry_after)
    except (GuardNotReady, BrokerUnavailable) as exc:
        log.warning("intake unavailable", extra={"reason": type(exc).__name__, "cause": repr(exc.__cause__)})
        raise ServiceUnavailable("Your application was not recorded. Retry in a few seconds: it is safe to press "
                                 "again.", code="intake-unavailable", headers={"Retry-After": "3"}, retry_after=3)


@blp.route("")
class Applications(MethodView):
    @admitted(lambda: context().admission)
    @idempotent(lambda: context().idempotency)
    @require_roles("parent")
    # An instance, not the class: given a class, webargs builds a new schema on every request.
    @blp.arguments(SubmissionSchema())
    @blp.response(202, AcknowledgementSchema)
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "required": True, "schema": {"type": "string"},
                          "description": "a new random value per intended submission; resend it when retrying"}])
    def post(self, body):
        """Submit an application (202 once it is safely kept)"""
        ack = _submit(current_principal().subject,
                      Submission(idempotency_key=request.headers[IDEMPOTENCY_HEADER], **body))
        status_url = url_for("applications.Application", application_id=ack.application_id)
        return ({"application_id": ack.application_id, "campaign_id": ack.campaign_id, "status": "received",
                 "submitted_at": ack.submitted_at, "status_url": status_url, "hold": ack.hold.as_dict(),
                 "message": hold_message(ack.hold)}, 202, {"Location": status_url})

    @require_roles("parent")
    @blp.response(200, ApplicationSchema(many=True))
    def get(self):
        """My household's applications in the ledger, newest first"""
        return family_applications(context().engine, current_principal().subject)


@blp.route("/<uuid:application_id>")
class Application(MethodView):
    @require_roles("parent")
    @blp.response(200, ApplicationSchema)
    def get(self, application_id: UUID):
        """One of my applications, with its history"""
        family = current_principal().subject
        found = application_view(context().engine, application_id, family)
        if found is not None:
            return found
        pending = context().redis.get(pending_key(application_id))
        if pending is not None:
            data = json.loads(pending)
            if data["family_account"] == family:
                return {**data, "status": "pending", "history": [], "arrival_position": None}
        raise NotFound("No application of yours has this id.", code="application-not-found")


NOT_YOURS = "No application of yours has this id (a just-submitted one may still be on its way: retry in a few seconds)."


def _left(before: dict) -> None:
    """After the ledger let the application go: free the child's guard and mirror the counters."""
    offer_id, had_place = counted_position(before)
    context().guard.leave(before["campaign_id"], before["child_id"], before["application_id"], offer_id, had_place)


@blp.route("/<uuid:application_id>/withdraw")
class Withdrawal(MethodView):
    @idempotent(lambda: context().idempotency)
    @require_roles("parent")
    @blp.response(200, ApplicationSchema)
    def post(self, application_id: UUID):
        """Withdraw my application (a place it held goes to the next family)"""
        family = current_principal().subject
        try:
            before = withdraw(context().engine, family, application_id, datetime.now(timezone.utc))
        except ApplicationNotFound:
            raise NotFound(NOT_YOURS, code="application-not-found")
        except TransitionRefused as exc:
            raise Conflict(str(exc), code="cannot-withdraw", status_now=str(exc.current))
        _left(before)
        return application_view(context().engine, application_id, family)


def _answer(application_id: UUID, accept: bool):
    family = current_principal().subject
    try:
        before = answer_offer(context().engine, family, application_id, accept, datetime.now(timezone.utc))
    except ApplicationNotFound:
        raise NotFound(NOT_YOURS, code="application-not-found")
    except OfferNotOpen as exc:
        if exc.expired:
            raise Conflict("The deadline to answer has passed; the place went to the waitlist.",
                           code="offer-expired")
        raise Conflict("No place is offered to this application.", code="no-offer", status_now=exc.status)
    if not accept:
        _left(before)
    return application_view(context().engine, application_id, family)


@blp.route("/<uuid:application_id>/accept")
class Acceptance(MethodView):
    @idempotent(lambda: context().idempotency)
    @require_roles("parent")
    @blp.response(200, ApplicationSchema)
    def post(self, application_id: UUID):
        """Accept the place offered, before its deadline"""
        return _answer(application_id, accept=True)


@blp.route("/<uuid:application_id>/decline")
class Declination(MethodView):
    @idempotent(lambda: context().idempotency)
    @require_roles("parent")
    @blp.response(200, ApplicationSchema)
    def post(self, application_id: UUID):
        """Decline the place offered: it goes to the next child on the waitlist"""
        return _answer(application_id, accept=False)


class MinuteCountSchema(ma.Schema):
    minute = ma.fields.AwareDateTime(metadata={"description": "start of the minute (UTC)"})
    received = ma.fields.Integer(metadata={"description": "applications submitted in that minute"})


class OfferCountSchema(ma.Schema):
    offer_id = ma.fields.UUID(metadata={"description": "offer"})
    first_choice = ma.fields.Integer(metadata={"description": "applications ranking it first"})
    ranked = ma.fields.Integer(metadata={"description": "applications ranking it at any rank"})


class IntakeCountersSchema(ma.Schema):
    campaign_id = ma.fields.UUID(metadata={"description": "campaign"})
    received = ma.fields.Integer(metadata={"description": "applications in the ledger, whatever their status"})
    per_minute = ma.fields.List(ma.fields.Nested(MinuteCountSchema), metadata={"description": "oldest first"})
    per_offer = ma.fields.List(ma.fields.Nested(OfferCountSchema), metadata={"description": "offers ranked"})


@blp.route("/counters/<uuid:campaign_id>")
class IntakeCounters(MethodView):
    @require_roles("manager")
    @blp.response(200, IntakeCountersSchema)
    def get(self, campaign_id: UUID):
        """Applications received for a campaign, per minute and per offer (managers' live view of a window)

        Read from the ledger: an application acknowledged a moment ago appears once the intake consumer
        has written it (usually within a second)."""
        return intake_counters(context().engine, campaign_id)
