"""Public API (no token): open and upcoming campaigns with their offers and places remaining, and any
published campaign by its id."""
from __future__ import annotations

from uuid import UUID

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from services.campaigns.bootstrap import CampaignsComponents
from services.campaigns.usecases.public_catalogue import matching_campaigns
from services.campaigns.web.schemas import (
    PublicCampaignSchema,
    PublicQuerySchema,
    public_campaign_view,
    public_catalogue_document,
)
from shared.errors import NotFound
from shared.web import ProblemSchema, within_budget

blp = Blueprint("public", __name__, url_prefix="/public",
                description="What families see: campaigns open or opening soon, without a token. Each client "
                            "address has a budget of requests per minute (429 with Retry-After beyond it).")


@blp.before_request
def count_against_the_client_budget():
    within_budget(CampaignsComponents.current().public_budget)


@blp.route("/campaigns")
class PublicCampaigns(MethodView):
    @blp.arguments(PublicQuerySchema, location="query")
    @blp.response(200, PublicCampaignSchema(many=True), headers={"Cache-Control": {
        "description": "how long the answer may be reused: until the next window instant or a few seconds",
        "schema": {"type": "string"}}})
    @blp.alt_response(429, schema=ProblemSchema, description="too many requests from this address")
    def get(self, filters):
        """Open and upcoming campaigns, with the offers matching the filters and their places remaining"""
        catalogue = CampaignsComponents.current().catalogue
        document = catalogue.read(render=public_catalogue_document)
        # The cached document is already in its public form: answered as is, not dumped again per read.
        response = jsonify(matching_campaigns(document.body, **filters))
        response.headers["Cache-Control"] = f"public, max-age={catalogue.max_age_seconds(document)}"
        return response


@blp.route("/campaigns/<uuid:campaign_id>",
           parameters=[{"in": "path", "name": "campaign_id", "description": "the campaign's id (UUID)"}])
class PublicCampaign(MethodView):
    @blp.response(200, PublicCampaignSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="no published campaign has this id")
    @blp.alt_response(429, schema=ProblemSchema, description="too many requests from this address")
    def get(self, campaign_id: UUID):
        """One published campaign, whatever its status now (closed and allocated ones too), with all its offers"""
        found = CampaignsComponents.current().catalogue.published_campaign(str(campaign_id))
        if found is None:
            raise NotFound("No published campaign has this id.", code="campaign-not-found")
        return public_campaign_view(found, CampaignsComponents.current().clock())
