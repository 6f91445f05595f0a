"""Manager API (role `manager`): dry-run an allocation, publish it once, read it, export the results.

A manager acts only on the campaigns its scope covers (GUICHET_MANAGER_SCOPES, shared.auth): 403 on any other.
A campaign under four eyes (`publication_needs_second_manager`) is published by a request and a second
manager's approval, never by `…/allocation/publish` (409); docs/allocation-service.md#four-eyes.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from services.allocation.bootstrap import AllocationComponents
from services.allocation.store.campaign_copy import CampaignCopy
from services.allocation.store.publication_requests import PublicationRequest
from services.allocation.store.repository import allocation_run, campaign_decisions, get_campaign
from services.allocation.usecases.draw_lines import audit_record
from services.allocation.usecases.draws import SecondManagerRequired, UnknownCampaign, dry_run, publish_draw
from services.allocation.usecases.publication import (
    NoPublicationRequest,
    NoSecondManagerNeeded,
    SameManager,
    approve_publication,
    current_request,
    request_publication,
    withdraw_publication_request,
)
from services.allocation.web.schemas import (
    AllocationOverviewSchema,
    AuditRecordSchema,
    PublicationRequestSchema,
    RunSchema,
)
from services.allocation.web.views import allocation_overview, results_csv, run_view
from shared.audit_web import request_actor
from shared.auth import current_principal, require_manager_scope, require_roles
from shared.errors import Conflict, NotFound
from shared.idempotency import idempotent
from shared.web import ProblemSchema

blp = Blueprint("allocation", __name__, url_prefix="/campaigns",
                description="Campaign managers dry-run, publish and export a campaign's allocation (role manager).")

CAMPAIGN_ID = {"in": "path", "name": "campaign_id", "description": "the campaign's id (UUID)"}
IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "required": True, "schema": {"type": "string"},
                   "description": "a new random value per intended publication; a retry with the same key gets the "
                                  "first answer again"}
CSV_RESPONSE = {200: {"description": "one line per decided application: application_id, outcome, offer_id, "
                                     "waitlist_positions (offer:position, space-separated), tier, lottery_number, "
                                     "arrival_rank; no names",
                      "content": {"text/csv": {"schema": {"type": "string"}}}}}


def stored_run(run_id: UUID) -> dict:
    with AllocationComponents.current().engine.connect() as connection:
        return run_view(allocation_run(connection, run_id))


def scoped_campaign(campaign_id: UUID) -> CampaignCopy:
    """The campaign, 404 if unknown, 403 unless the manager's scope covers it."""
    with AllocationComponents.current().engine.connect() as connection:
        campaign = get_campaign(connection, campaign_id)
    if campaign is None:
        raise UnknownCampaign(campaign_id)
    require_manager_scope(campaign.kind, campaign_id)
    return campaign


def in_scope(view: Callable) -> Callable:
    """403 unless the manager's scope covers the campaign the path names (404 for an unknown one)."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scoped_campaign(kwargs["campaign_id"])
        return view(*args, **kwargs)

    return blp.alt_response(403, schema=ProblemSchema, description="the campaign is outside your manager scope, "
                                                                   "or you are not a manager")(wrapper)


@contextmanager
def four_eyes_problems() -> Iterator[None]:
    try:
        yield
    except SecondManagerRequired as error:
        raise Conflict("This campaign's results are published when a second manager approves: ask for the "
                       "publication (POST …/allocation/publication-request).", code="second-manager-required") from error
    except NoSecondManagerNeeded as error:
        raise Conflict("This campaign needs no second manager: publish it directly (POST …/allocation/publish).",
                       code="no-second-manager-needed") from error
    except NoPublicationRequest as error:
        raise Conflict("Nobody asked for this campaign's publication (or the request was withdrawn).",
                       code="no-publication-request") from error
    except SameManager as error:
        raise Conflict("You asked for this publication: another manager must approve it.",
                       code="same-manager", requested_by=error.subject) from error


def principal_name() -> str | None:
    """How the provider names the signed-in manager (OpenID Connect `name`, else the login)."""
    claims = current_principal().claims
    name = claims.get("name") or claims.get("preferred_username")
    return name if isinstance(name, str) else None


def request_view(request: PublicationRequest | None) -> dict[str, Any] | None:
    return None if request is None else {
        "campaign_id": request.campaign_id, "requested_by": request.requested_by,
        "requested_by_name": request.requested_by_name,
        "requested_at": request.requested_at, "approved_by": request.approved_by,
        "approved_at": request.approved_at, "run_id": request.run_id}


@blp.route("/<uuid:campaign_id>/allocation/dry-run", parameters=[CAMPAIGN_ID])
class DryRun(MethodView):
    @require_roles("manager")
    @in_scope
    @blp.response(201, RunSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="unknown campaign")
    def post(self, campaign_id: UUID):
        """Run the allocation on the current applications and keep its statistics; nothing is decided

        Drawn with a throwaway seed, never the committed one: the figures are a real draw's, the
        outcomes nobody's."""
        return stored_run(dry_run(AllocationComponents.current().engine, campaign_id, AllocationComponents.current().clock(),
                                  actor=request_actor("manager")))


@blp.route("/<uuid:campaign_id>/allocation/publish", parameters=[CAMPAIGN_ID])
class Publish(MethodView):
    @require_roles("manager")
    @in_scope
    @idempotent(lambda: AllocationComponents.current().idempotency)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    @blp.response(201, RunSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="unknown campaign")
    @blp.alt_response(409, schema=ProblemSchema, description="not closed yet, already published, first-come, or "
                                                             "under four eyes (second-manager-required)")
    def post(self, campaign_id: UUID):
        """Draw a closed lottery campaign now and publish every decision, once (campaigns without four eyes)

        The worker draws on its own a few minutes after the close; this is for a manager who does
        not want to wait. A campaign under four eyes goes through a publication request instead."""
        with four_eyes_problems():
            return stored_run(publish_draw(AllocationComponents.current().engine, campaign_id,
                                           AllocationComponents.current().clock(), actor=request_actor("manager")))


@blp.route("/<uuid:campaign_id>/allocation/publication-request", parameters=[CAMPAIGN_ID])
class PublicationRequestItem(MethodView):
    @require_roles("manager")
    @in_scope
    @blp.response(201, PublicationRequestSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="unknown campaign")
    @blp.alt_response(409, schema=ProblemSchema, description="not closed yet, already published, first-come, or no "
                                                             "second manager needed")
    def post(self, campaign_id: UUID):
        """Ask for the publication of a closed lottery campaign's draw (four eyes); a second manager approves it

        Asking again, by anyone, answers the request already filed, unchanged."""
        with four_eyes_problems():
            return request_view(request_publication(AllocationComponents.current().engine, campaign_id,
                                                    AllocationComponents.current().clock(),
                                                    actor=request_actor("manager"), requester_name=principal_name()))

    @require_roles("manager")
    @in_scope
    @blp.response(200, PublicationRequestSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="unknown campaign, or nobody asked")
    def get(self, campaign_id: UUID):
        """The publication request, pending or approved"""
        request = current_request(AllocationComponents.current().engine, campaign_id)
        if request is None:
            raise NotFound("Nobody asked for this campaign's publication.", code="no-publication-request")
        return request_view(request)

    @require_roles("manager")
    @in_scope
    @blp.response(204)
    @blp.alt_response(404, schema=ProblemSchema, description="unknown campaign")
    def delete(self, campaign_id: UUID):
        """Withdraw the pending publication request (any manager); without one, nothing changes"""
        withdraw_publication_request(AllocationComponents.current().engine, campaign_id,
                                     AllocationComponents.current().clock(), actor=request_actor("manager"))


@blp.route("/<uuid:campaign_id>/allocation/publication-request/approval", parameters=[CAMPAIGN_ID])
class PublicationApproval(MethodView):
    @require_roles("manager")
    @in_scope
    @blp.response(201, RunSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="unknown campaign")
    @blp.alt_response(409, schema=ProblemSchema, description="you asked for it yourself (same-manager), nobody "
                                                             "asked, or published otherwise")
    def post(self, campaign_id: UUID):
        """Approve another manager's publication request: the draw is drawn and published now, once

        Approving again answers the published run and changes nothing."""
        with four_eyes_problems():
            return stored_run(approve_publication(AllocationComponents.current().engine, campaign_id,
                                                  AllocationComponents.current().clock(),
                                                  actor=request_actor("manager")))


@blp.route("/<uuid:campaign_id>/allocation", parameters=[CAMPAIGN_ID])
class Allocation(MethodView):
    @require_roles("manager")
    @blp.response(200, AllocationOverviewSchema)
    @blp.alt_response(403, schema=ProblemSchema, description="the campaign is outside your manager scope")
    @blp.alt_response(404, schema=ProblemSchema, description="unknown campaign")
    def get(self, campaign_id: UUID):
        """The published allocation and the latest dry run, with their statistics, the answers so far, and the
        publication request (four eyes)"""
        campaign = scoped_campaign(campaign_id)
        with AllocationComponents.current().engine.connect() as connection:
            overview = allocation_overview(connection, campaign)
        return {**overview, "publication_needs_second_manager": campaign.publication_needs_second_manager,
                "publication_request": request_view(current_request(AllocationComponents.current().engine,
                                                                    campaign_id))}


@blp.route("/<uuid:campaign_id>/allocation/results.csv", parameters=[CAMPAIGN_ID])
class Results(MethodView):
    @require_roles("manager")
    @in_scope
    @blp.doc(responses=CSV_RESPONSE)
    @blp.alt_response(404, schema=ProblemSchema, description="unknown campaign")
    def get(self, campaign_id: UUID):
        """The published results, for the public record (CSV)"""
        with AllocationComponents.current().engine.connect() as connection:
            body = results_csv(campaign_decisions(connection, campaign_id))
        return Response(body, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="allocation-{campaign_id}.csv"'})


@blp.route("/<uuid:campaign_id>/allocation/draw-record", parameters=[CAMPAIGN_ID])
class DrawRecord(MethodView):
    @require_roles("manager")
    @in_scope
    @blp.response(200, AuditRecordSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="no published draw with lines for this campaign")
    def get(self, campaign_id: UUID):
        """For auditors: every line of the public draw with its application, salt and facts, and the lines key"""
        with AllocationComponents.current().engine.connect() as connection:
            return audit_record(connection, campaign_id)
