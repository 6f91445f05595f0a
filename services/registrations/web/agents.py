"""Agents' API (issue 16): a city employee at the counter or on the phone finds a family, reads its household and
applications, and acts for it: declares or corrects the household, accepts, declines or withdraws, each with a
reason the family reads in its history and its message.

An agent is held to the family's rules (the use cases are the parents' ones: windows, deadlines, the state
machine; an application goes through the parents' intake, waiting room included: the agent takes the family's
place in the room); every action leaves one entry on the family's audit chain (store/audit.py; an application's,
by the ledger worker). A parent's token is answered 403 here, an unknown family or another family's application
404 (docs/registrations.md#agents).
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from flask import request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from services.registrations.bootstrap import RegistrationsComponents
from services.registrations.domain.applications import AGENT_ROLE
from services.registrations.domain.household import Child, Household, declared
from services.registrations.store.households import family_known, find_households
from services.registrations.store.ledger import family_applications
from services.registrations.usecases.intake import OnBehalf
from services.registrations.web.agent_schemas import (
    AgentChildSchema,
    AgentSubmissionSchema,
    AgentWithdrawalSchema,
    FamilyQuerySchema,
    FamilySchema,
    HouseholdCorrectionSchema,
    ReasonSchema,
)
from services.registrations.web.parents.applications import (
    ADMISSION_HEADER,
    family_application,
    intake_entry,
    submit_for,
)
from services.registrations.web.parents.waiting_room import answered
from services.registrations.web.schemas import (
    AcknowledgementSchema,
    ApplicationSchema,
    ChildSchema,
    HouseholdSchema,
    PlaceSchema,
)
from shared.audit import Actor
from shared.audit_web import request_actor
from shared.auth import require_roles
from shared.errors import PROBLEM_CONTENT_TYPE, NotFound
from shared.idempotency import HEADER as IDEMPOTENCY_KEY
from shared.idempotency import idempotent
from shared.web import ProblemSchema

blp = Blueprint("agents", __name__, url_prefix="/agent",
                description="City agents act for families: find one, read its household and applications, correct "
                            "them or answer for it, each with a reason the family is shown.")

IDEMPOTENCY_PARAMETER = {"in": "header", "name": IDEMPOTENCY_KEY, "required": True,
                         "schema": {"type": "string", "maxLength": 255},
                         "description": "a new random value per intended action; resend it when retrying"}
UNKNOWN_FAMILY = "No family has this account here (no household, no application)."
PROBLEM = {"schema": ProblemSchema, "content_type": PROBLEM_CONTENT_TYPE}
# A family account is a token subject (at most 255 characters); a longer one is no family's: 404.
FAMILY = "<string(maxlength=255):family_account>"


# Outermost on every view, so a parent never reaches the idempotency keys of agents.
agents_only = require_roles(AGENT_ROLE)


def acting_for(family_account: str, *, may_be_new: bool = False) -> Actor:
    """The agent of this request acting for `family_account`, which must be known here unless `may_be_new` (404
    otherwise; an account with control characters is no family's, and PostgreSQL would refuse a NUL)."""
    if not family_account.isprintable():
        raise NotFound(UNKNOWN_FAMILY, code="family-not-found")
    if not may_be_new:
        with RegistrationsComponents.current().engine.connect() as connection:
            if not family_known(connection, family_account):
                raise NotFound(UNKNOWN_FAMILY, code="family-not-found")
    return request_actor(AGENT_ROLE, on_behalf_of=family_account)


def _etag_data(household: Household | None) -> dict[str, int]:
    return {"version": household.version if household is not None else 0}


def _summary(household: Household) -> dict[str, Any]:
    return {"family_account": household.family_account, "email": household.email,
            "arrondissement": household.arrondissement, "children": household.children}


@blp.route("/families")
class Families(MethodView):
    @agents_only
    @blp.arguments(FamilyQuerySchema, location="query")
    @blp.response(200, FamilySchema(many=True))
    def get(self, query):
        """Find families: by account, by email, or by a child's name and birth date (at most 20)"""
        with RegistrationsComponents.current().engine.connect() as connection:
            return [_summary(found) for found in find_households(connection, **query)]


@blp.route(f"/families/{FAMILY}/household")
class FamilyHousehold(MethodView):
    @agents_only
    @blp.etag
    @blp.response(200, HouseholdSchema)
    @blp.alt_response(404, description="Unknown family (family-not-found), or no household declared yet "
                                       "(household-not-found)", **PROBLEM)
    def get(self, family_account: str):
        """The family's household, with its children"""
        acting_for(family_account)
        household = declared(RegistrationsComponents.current().households.get(family_account), family_account)
        blp.set_etag(_etag_data(household))
        return household

    @agents_only
    @blp.etag
    @blp.arguments(HouseholdCorrectionSchema)
    @blp.response(200, HouseholdSchema)
    @blp.alt_response(404, description="Unknown family (family-not-found); send `If-Match: *` to declare the "
                                       "household of an account not known here yet", **PROBLEM)
    def put(self, correction, family_account: str):
        """Declare or correct the family's household (children kept), with a reason

        As a parent's PUT /household: `If-Match` with the ETag read, or `If-Match: *`; the family's rules hold.
        """
        actor = acting_for(family_account, may_be_new=request.if_match.star_tag)
        reason = correction.pop("reason")
        saved = RegistrationsComponents.current().household_changes.correct_for_family(
            actor, correction, reason, check=lambda current: blp.check_etag(_etag_data(current)))
        blp.set_etag(_etag_data(saved))
        return saved


# What a child's field left out of an agent's PUT becomes: the child's own defaults (no school, no allowance).
CHILD_DEFAULTS = {field.name: field.default for field in dataclasses.fields(Child)
                  if field.default is not dataclasses.MISSING}


@blp.route(f"/families/{FAMILY}/household/children")
class FamilyChildren(MethodView):
    @agents_only
    @idempotent(lambda: RegistrationsComponents.current().idempotency)
    @blp.etag
    @blp.arguments(AgentChildSchema)
    @blp.response(201, ChildSchema)
    @blp.alt_response(404, description="Unknown family (family-not-found), or no household declared yet "
                                       "(household-not-found)", **PROBLEM)
    @blp.alt_response(409, description="The child is already declared (child-already-declared, its `child_id` given), "
                                       "or the same Idempotency-Key is in flight", **PROBLEM)
    @blp.doc(parameters=[IDEMPOTENCY_PARAMETER])
    def post(self, body, family_account: str):
        """Add a child to the family's household, with a reason (the household's new ETag in the answer)

        The parent's POST /household/children and its rules (names, birth date, at most 10 children, no
        duplicate); the family reads it in its history and is told (`household.corrected`)."""
        actor = acting_for(family_account)
        reason = body.pop("reason")
        child = Child(child_id=uuid4(), **body)
        saved = RegistrationsComponents.current().household_changes.add_child(family_account, child, actor=actor,
                                                                              reason=reason)
        blp.set_etag(_etag_data(saved))
        return saved.child(child.child_id), {"Location": url_for(
            "agents.FamilyChild", family_account=family_account, child_id=child.child_id)}


@blp.route(f"/families/{FAMILY}/household/children/<uuid:child_id>")
class FamilyChild(MethodView):
    @agents_only
    @blp.etag
    @blp.arguments(AgentChildSchema)
    @blp.response(200, ChildSchema)
    @blp.alt_response(404, description="Unknown family, no household, or no such child in it (child-not-found)",
                      **PROBLEM)
    @blp.alt_response(409, description="The change makes it a duplicate of another child", **PROBLEM)
    def put(self, body, family_account: str, child_id: UUID):
        """Set a child's fields, with a reason (a field left out takes its default)

        `If-Match` with the household's ETag read (or `*`), as the household's PUT: a stale one is 412 and changes
        nothing. The parent's rules hold; the family reads it in its history and is told."""
        actor = acting_for(family_account)
        reason = body.pop("reason")
        saved = RegistrationsComponents.current().household_changes.change_child(
            family_account, child_id, actor=actor, reason=reason,
            check=lambda current: blp.check_etag(_etag_data(current)), **{**CHILD_DEFAULTS, **body})
        blp.set_etag(_etag_data(saved))
        return saved.child(child_id)


@blp.route(f"/families/{FAMILY}/household/children/<uuid:child_id>/removal")
class FamilyChildRemoval(MethodView):
    @agents_only
    @idempotent(lambda: RegistrationsComponents.current().idempotency)
    @blp.etag
    @blp.arguments(ReasonSchema)
    @blp.response(200, HouseholdSchema)
    @blp.alt_response(404, description="Unknown family, no household, or no such child in it (child-not-found)",
                      **PROBLEM)
    @blp.doc(parameters=[IDEMPOTENCY_PARAMETER])
    def post(self, body, family_account: str, child_id: UUID):
        """Remove a child from the family's household, with a reason: the household without it, and its ETag

        As the parent's DELETE: the child's record is kept (marked removed) for the applications that name it. A
        POST with the reason in its body, so that the reason stays out of URLs and access logs."""
        actor = acting_for(family_account)
        saved = RegistrationsComponents.current().household_changes.remove_child(
            family_account, child_id, actor=actor, reason=body["reason"])
        blp.set_etag(_etag_data(saved))
        return saved


@blp.route(f"/families/{FAMILY}/applications")
class FamilyApplications(MethodView):
    @agents_only
    @blp.response(200, ApplicationSchema(many=True))
    @blp.alt_response(404, description="Unknown family (family-not-found)", **PROBLEM)
    def get(self, family_account: str):
        """The family's applications in the ledger, newest first"""
        acting_for(family_account)
        return family_applications(RegistrationsComponents.current().engine, family_account)

    @agents_only
    @intake_entry
    @blp.arguments(AgentSubmissionSchema())
    @blp.response(202, AcknowledgementSchema)
    @blp.alt_response(403, description="The campaign's waiting room admits families: the family's admission token "
                                       "is missing or not valid (admission-token-missing, -invalid, -expired or "
                                       "-foreign); take the family's place with PUT …/waiting-rooms/{campaign}/place",
                      **PROBLEM)
    @blp.alt_response(404, description="Unknown family (family-not-found)", **PROBLEM)
    @blp.alt_response(409, description="The family could not apply now either: the window is not open or has "
                                       "closed, or the child already has an application to the campaign "
                                       "(`existing_application`)", **PROBLEM)
    @blp.alt_response(503, description="Nothing was recorded; retry after Retry-After with the same "
                                       "Idempotency-Key (intake-saturated, intake-unavailable)", **PROBLEM)
    @blp.doc(parameters=[IDEMPOTENCY_PARAMETER,
                         {"in": "header", "name": ADMISSION_HEADER, "required": False, "schema": {"type": "string"},
                          "description": "while the campaign's waiting room admits: the family's admission token"}])
    def post(self, body, family_account: str):
        """Apply for one of the family's children, with a reason (202 once it is safely kept)

        The parent's application (POST /applications) and the same intake: window, eligibility, the guard (one
        application per child), first-come places and the waiting room hold for the agent as for the family. The
        record says an agent applied, who and why; the family reads it in its history and is sent a message."""
        actor = acting_for(family_account)
        on_behalf = OnBehalf(agent_subject=actor.subject, reason=body.pop("reason"))
        return submit_for(family_account, body, on_behalf, follow=lambda application_id: url_for(
            "agents.FamilyApplication", family_account=family_account, application_id=application_id))


@blp.route(f"/families/{FAMILY}/applications/<uuid:application_id>")
class FamilyApplication(MethodView):
    @agents_only
    @blp.response(200, ApplicationSchema)
    @blp.alt_response(404, description="Unknown family, or not an application of this family", **PROBLEM)
    def get(self, family_account: str, application_id: UUID):
        """One of the family's applications, with its history (who acted, and why)"""
        acting_for(family_account)
        found = family_application(family_account, application_id)  # `pending` a moment after a submission
        if found is None:
            raise NotFound("This family has no application with this id.", code="application-not-found")
        return found


@blp.route(f"/families/{FAMILY}/waiting-rooms/<uuid:campaign_id>/place")
class FamilyPlace(MethodView):
    """The family's one place in a campaign's waiting room (the same place its own tabs get): an agent at the
    counter waits in the family's turn like the family, no exception; once admitted, the place's admission token
    goes with the agent's application (Admission-Token)."""

    @agents_only
    @blp.response(200, PlaceSchema)
    @blp.alt_response(404, description="Unknown family, or the campaign has no waiting room", **PROBLEM)
    @blp.alt_response(409, description="The room is not open yet, or the window has closed", **PROBLEM)
    def put(self, family_account: str, campaign_id: UUID):
        """Take the family's place in the room (again: the same place)"""
        acting_for(family_account)
        return answered(RegistrationsComponents.current().waiting_rooms.join(family_account, campaign_id))

    @agents_only
    @blp.response(200, PlaceSchema)
    @blp.alt_response(404, description="Unknown family, or the campaign has no waiting room", **PROBLEM)
    def get(self, family_account: str, campaign_id: UUID):
        """The family's place: position, families ahead; once admitted, the admission token"""
        acting_for(family_account)
        return answered(RegistrationsComponents.current().waiting_rooms.place(family_account, campaign_id))


def family_action(view: Callable, arguments: type[ReasonSchema] = ReasonSchema) -> Callable:
    """What every action for a family is: an agent's, idempotent, with a reason, answered with the application."""
    decorators = [
        agents_only,
        idempotent(lambda: RegistrationsComponents.current().idempotency),
        blp.arguments(arguments),
        blp.response(200, ApplicationSchema),
        blp.alt_response(404, description="Unknown family, or not an application of this family", **PROBLEM),
        blp.alt_response(409, description="The family could not do it now either (no-offer, offer-expired, "
                                          "cannot-withdraw)", **PROBLEM),
        blp.doc(parameters=[IDEMPOTENCY_PARAMETER]),
    ]
    for decorate in reversed(decorators):
        view = decorate(view)
    return view


@blp.route(f"/families/{FAMILY}/applications/<uuid:application_id>/accept")
class FamilyAcceptance(MethodView):
    @family_action
    def post(self, body, family_account: str, application_id: UUID):
        """Accept the place offered to the family, before its deadline, with a reason"""
        return RegistrationsComponents.current().answers.answer(
            family_account, application_id, accept=True, actor=acting_for(family_account), reason=body["reason"])


@blp.route(f"/families/{FAMILY}/applications/<uuid:application_id>/decline")
class FamilyDeclination(MethodView):
    @family_action
    def post(self, body, family_account: str, application_id: UUID):
        """Decline the place offered to the family, with a reason: it goes to the next child on the waitlist"""
        return RegistrationsComponents.current().answers.answer(
            family_account, application_id, accept=False, actor=acting_for(family_account), reason=body["reason"])


@blp.route(f"/families/{FAMILY}/applications/<uuid:application_id>/withdraw")
class FamilyWithdrawal(MethodView):
    @functools.partial(family_action, arguments=AgentWithdrawalSchema)
    def post(self, body, family_account: str, application_id: UUID):
        """Withdraw the family's application, with a reason (a place it held goes to the next family); a confirmed
        place's late fee may be waived (`waive_late_fee`), the agents' one exception to a campaign's rules"""
        return RegistrationsComponents.current().answers.withdraw(
            family_account, application_id, actor=acting_for(family_account), reason=body["reason"],
            waive_late_fee=body["waive_late_fee"])
