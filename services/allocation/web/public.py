"""Public API (no token): a lottery campaign's commitment, then its seed and draw bundle."""
from __future__ import annotations

from uuid import UUID

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from services.allocation.bootstrap import AllocationComponents
from services.allocation.store.repository import get_seed, published_bundle, published_run
from services.allocation.web.schemas import DrawSchema
from services.allocation.web.views import draw_view
from shared.errors import NotFound
from shared.web import ProblemSchema

blp = Blueprint("draw", __name__, url_prefix="/draws",
                description="Anyone can check a lottery: the seed's commitment from the opening, then the seed "
                            "and the bundle to recompute the draw with guichet-verify.")

CAMPAIGN_ID = {"in": "path", "name": "campaign_id", "description": "the campaign's id (UUID)"}
BUNDLE_RESPONSE = {200: {"description": "the draw bundle (format guichet-draw/1, see docs/allocation.md)",
                         "content": {"application/json": {"schema": {"type": "object"}}}}}


@blp.route("/<uuid:campaign_id>", parameters=[CAMPAIGN_ID])
class Draw(MethodView):
    @blp.response(200, DrawSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="no lottery for this campaign")
    def get(self, campaign_id: UUID):
        """The lottery's commitment; its seed and bundle once the draw is published"""
        with AllocationComponents.current().engine.connect() as connection:
            seed = get_seed(connection, campaign_id)
            if seed is None:
                raise NotFound("No lottery seed was committed for this campaign.", code="no-lottery")
            return draw_view(seed, published_run(connection, campaign_id))


@blp.route("/<uuid:campaign_id>/bundle.json", parameters=[CAMPAIGN_ID])
class DrawBundle(MethodView):
    @blp.doc(responses=BUNDLE_RESPONSE)
    @blp.alt_response(404, schema=ProblemSchema, description="the draw is not published")
    def get(self, campaign_id: UUID):
        """The published draw bundle: policy, offers, applications (no names), seed and results"""
        with AllocationComponents.current().engine.connect() as connection:
            bundle = published_bundle(connection, campaign_id)
        if bundle is None:
            raise NotFound("No draw has been published for this campaign.", code="draw-not-published")
        return Response(bundle, mimetype="application/json")
