"""Which problem+json each refusal of the registrations domain, use cases and stores is: what a parent's
client can act on. Installed by `app.py` with `shared.errors.install_domain_error_mapping`."""
from __future__ import annotations

import logging
from datetime import datetime

from flask import url_for

from services.registrations.domain.applications import (
    ApplicationInvalid,
    OfferNotOpen,
    WindowClosed,
    WindowNotOpenYet,
    WithdrawalRefused,
)
from services.registrations.domain.documents import (
    MEDIA_TYPES,
    DocumentInvalid,
    DocumentNotFound,
    DocumentTooLarge,
    DocumentTypeRefused,
)
from services.registrations.domain.facts import FactValidationInvalid
from services.registrations.domain.household import (
    ChildNotFound,
    DuplicateChild,
    HouseholdInvalid,
    HouseholdNotDeclared,
)
from services.registrations.domain.waiting_room import AdmissionRefused
from services.registrations.store.admission import Overloaded
from services.registrations.store.households import StaleHousehold
from services.registrations.store.intake_guard import AlreadyApplied, CampaignFull, GuardNotReady, RateLimited
from services.registrations.store.ledger import ApplicationNotFound
from services.registrations.usecases.documents import DocumentSupportsValidation
from services.registrations.usecases.erasure import ErasureRefused
from services.registrations.usecases.fact_validation import UnknownDocument
from services.registrations.usecases.intake import (
    BrokerUnavailable,
    HouseholdIncomplete,
    SubmissionRefused,
    UnknownCampaign,
)
from services.registrations.usecases.waiting_room import NoWaitingRoom, RoomClosed, RoomNotOpenYet
from shared.domain.paris import PARIS
from shared.errors import Conflict, NotFound, Problem, ProblemFor, ServiceUnavailable, Unprocessable, field_error

log = logging.getLogger(__name__)

NOT_YOURS = "No application of yours has this id (a just-submitted one may still be on its way: retry in a few seconds)."


def paris_time(instant: datetime) -> str:
    """Windows are shown as parents read them: Paris wall-clock time, with its offset."""
    return instant.astimezone(PARIS).isoformat()


def overloaded(refused: Overloaded) -> Problem:
    if refused.budget == "global":
        detail, code = ("Guichet is taking as many applications as it can right now; retry in a second. "
                        "Nothing was recorded."), "intake-busy"
    else:
        detail, code = "Too many submissions from this network; retry shortly.", "ip-rate-limited"
    return Problem(detail, status=429, code=code, title="Too many requests",
                   headers={"Retry-After": refused.retry_after}, retry_after=int(refused.retry_after))


def application_invalid(invalid: ApplicationInvalid) -> Problem:
    errors = [{**field_error(v.field, v.message, v.code), **({"offer_id": str(v.offer_id)} if v.offer_id else {})}
              for v in invalid.violations]
    return Unprocessable("The application breaks the campaign's rules.", code="application-invalid", errors=errors)


def already_applied(duplicate: AlreadyApplied) -> Problem:
    return Conflict("This child already has an application in this campaign.", code="already-applied",
                    existing_application=duplicate.application_id,
                    existing_application_url=url_for("applications.Application",
                                                     application_id=duplicate.application_id))


def intake_unavailable(error: Exception) -> Problem:
    log.warning("intake unavailable", extra={"reason": type(error).__name__, "cause": repr(error.__cause__)})
    return ServiceUnavailable("Your application was not recorded. Retry in a few seconds: it is safe to press "
                              "again.", code="intake-unavailable", headers={"Retry-After": "3"}, retry_after=3)


def offer_not_open(refused: OfferNotOpen) -> Problem:
    if refused.expired:
        return Conflict("The deadline to answer has passed; the place went to the waitlist.", code="offer-expired")
    return Conflict("No place is offered to this application.", code="no-offer", status_now=refused.status)


def duplicate_child(duplicate: DuplicateChild) -> Problem:
    return Conflict("This child (same names and birth date) is already in your household.",
                    code="child-already-declared", child_id=str(duplicate.existing.child_id),
                    child_url=url_for("households.OwnChild", child_id=duplicate.existing.child_id))


PROBLEMS: dict[type[Exception], ProblemFor] = {
    # Intake (POST /applications), in the order a submission meets them.
    Overloaded: overloaded,
    UnknownCampaign: lambda _: NotFound("No open or upcoming campaign has this id.", code="campaign-not-found"),
    WindowNotOpenYet: lambda e: Conflict("Applications are not open yet.", code="window-not-open",
                                         opens_at=paris_time(e.opens_at)),
    WindowClosed: lambda e: Conflict("Applications are closed.", code="window-closed",
                                     closes_at=paris_time(e.closes_at)),
    HouseholdIncomplete: lambda e: Unprocessable(str(e), code="household-incomplete",
                                                 errors=[field_error(e.field, str(e))]),
    ApplicationInvalid: application_invalid,
    SubmissionRefused: lambda e: Unprocessable(str(e), code=e.code, errors=[field_error(e.field, str(e), e.code)]),
    AlreadyApplied: already_applied,
    CampaignFull: lambda _: Conflict("Every offer chosen is full, waitlists included.", code="campaign-full"),
    RateLimited: lambda e: Problem("Too many submissions from this account; retry shortly.", status=429,
                                   code="rate-limited", title="Too many requests",
                                   headers={"Retry-After": str(e.retry_after)}, retry_after=e.retry_after),
    GuardNotReady: intake_unavailable,
    BrokerUnavailable: intake_unavailable,
    # The waiting room (web/parents/waiting_room.py) and its admission token, checked before intake.
    AdmissionRefused: lambda e: Problem(str(e), status=403, code=e.reason, title="Forbidden", reason=e.reason,
                                        errors=[field_error("Admission-Token", str(e), e.reason)]),
    NoWaitingRoom: lambda _: NotFound("This campaign has no waiting room.", code="waiting-room-not-found"),
    RoomNotOpenYet: lambda e: Conflict("The waiting room is not open yet.", code="waiting-room-not-open",
                                       opens_at=paris_time(e.pre_queue_opens_at)),
    RoomClosed: lambda e: Conflict("Applications are closed.", code="window-closed",
                                   closes_at=paris_time(e.closes_at)),
    # A parent's application afterwards.
    ApplicationNotFound: lambda _: NotFound(NOT_YOURS, code="application-not-found"),
    WithdrawalRefused: lambda e: Conflict(str(e), code="cannot-withdraw", status_now=str(e.current)),
    OfferNotOpen: offer_not_open,
    # The household.
    HouseholdNotDeclared: lambda _: NotFound("You have not declared your household yet: send it with PUT /household "
                                             "(If-Match: *).", code="household-not-found"),
    HouseholdInvalid: lambda e: Unprocessable("The household breaks a rule; nothing was changed.",
                                              code="household-invalid",
                                              errors=[field_error(v.field, v.message, v.code) for v in e.violations]),
    ChildNotFound: lambda _: NotFound("Your household has no child with this id.", code="child-not-found"),
    DuplicateChild: duplicate_child,
    # 412, as flask-smorest answers a stale If-Match itself.
    StaleHousehold: lambda _: Problem("The household was changed meanwhile: read it again, then resend your change.",
                                      status=412, code="precondition-failed", title="Precondition Failed"),
    ErasureRefused: lambda e: Conflict(e.detail, code=e.code),
    # Supporting documents and validated facts (web/parents/documents.py, web/agent_documents.py).
    DocumentTooLarge: lambda e: Problem(str(e), status=413, code="document-too-large",
                                        title="The request body is too large", limit_bytes=e.limit,
                                        errors=[field_error("body", str(e), "document-too-large")]),
    DocumentTypeRefused: lambda e: Problem(str(e), status=415, code="document-type-refused",
                                           title="Unsupported media type", accepted=list(MEDIA_TYPES),
                                           errors=[field_error("body", str(e), "document-type-refused")]),
    # An upload's fields are its query (`query.fact`, as the schema names them), its content the body.
    DocumentInvalid: lambda e: Unprocessable("The upload breaks a rule; nothing was stored.", code="document-invalid",
                                             errors=[field_error(v.field if v.field == "body" else f"query.{v.field}",
                                                                 v.message, v.code) for v in e.violations]),
    DocumentNotFound: lambda _: NotFound("No document of this family has this id.", code="document-not-found"),
    FactValidationInvalid: lambda e: Unprocessable("The validation breaks a rule; nothing was changed.",
                                                   code="fact-validation-invalid",
                                                   errors=[field_error(v.field, v.message, v.code)
                                                           for v in e.violations]),
    DocumentSupportsValidation: lambda e: Conflict(str(e), code="document-supports-validated-fact",
                                                   document_id=str(e.document_id),
                                                   errors=[field_error("document_id", str(e),
                                                                       "document-supports-validated-fact")]),
    UnknownDocument: lambda e: Unprocessable(str(e), code="document-unknown",
                                             errors=[field_error("document_id", str(e), "document-unknown")]),
}
