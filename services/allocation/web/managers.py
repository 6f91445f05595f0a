"""Manager API (role `manager`): dry-run an allocation, publish it once, read it, export the results."""
from __future__ import annotations

from uuid import UUID

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from services.allocation.bootstrap import AllocationComponents
from services.allocation.store.repository import allocation_run, campaign_decisions, get_campaign
from services.allocation.usecases.draw_lines import audit_record
from services.allocation.usecases.draws import UnknownCampaign, dry_run, publish_draw
from services.allocation.web.schemas import AllocationOverviewSchema, AuditRecordSchema, RunSchema
from services.allocation.web.views import allocation_overview, results_csv, run_view
from shared.audit_web import request_actor
from shared.auth import require_roles
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


@blp.route("/<uuid:campaign_id>/allocation/dry-run", parameters=[CAMPAIGN_ID])
class DryRun(MethodView):
    @require_roles("manager")
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
    @idempotent(lambda: AllocationComponents.current().idempotency)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    @blp.response(201, RunSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="unknown campaign")
    @blp.alt_response(409, schema=ProblemSchema, description="not closed yet, already published, or first-come")
    def post(self, campaign_id: UUID):
        """Draw a closed lottery campaign now and publish every decision, once

        The worker draws on its own a few minutes after the close; this is for a manager who does
        not want to wait."""
        return stored_run(publish_draw(AllocationComponents.current().engine, campaign_id, AllocationComponents.current().clock(),
                                       actor=request_actor("manager")))


@blp.route("/<uuid:campaign_id>/allocation", parameters=[CAMPAIGN_ID])
class Allocation(MethodView):
    @require_roles("manager")
    @blp.response(200, AllocationOverviewSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="unknown campaign")
    def get(self, campaign_id: UUID):
        """The published allocation and the latest dry run, with their statistics, and the answers so far"""
        with AllocationComponents.current().engine.connect() as connection:
            campaign = get_campaign(connection, campaign_id)
            if campaign is None:
                raise UnknownCampaign(campaign_id)
            return allocation_overview(connection, campaign)


@blp.route("/<uuid:campaign_id>/allocation/results.csv", parameters=[CAMPAIGN_ID])
class Results(MethodView):
    @require_roles("manager")
    @blp.doc(responses=CSV_RESPONSE)
    @blp.alt_response(404, schema=ProblemSchema, description="unknown campaign")
    def get(self, campaign_id: UUID):
        """The published results, for the public record (CSV)"""
        with AllocationComponents.current().engine.connect() as connection:
            if get_campaign(connection, campaign_id) is None:
                raise UnknownCampaign(campaign_id)
            body = results_csv(campaign_decisions(connection, campaign_id))
        return Response(body, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="allocation-{campaign_id}.csv"'})


@blp.route("/<uuid:campaign_id>/allocation/draw-record", parameters=[CAMPAIGN_ID])
class DrawRecord(MethodView):
    @require_roles("manager")
    @blp.response(200, AuditRecordSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="no published draw with lines for this campaign")
    def get(self, campaign_id: UUID):
        """For auditors: every line of the public draw with its application, salt and facts, and the lines key"""
        with AllocationComponents.current().engine.connect() as connection:
            return audit_record(connection, campaign_id)
