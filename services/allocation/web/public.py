"""Public API (no token): a lottery campaign's commitment, then its seed and draw bundle."""
from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from uuid import UUID

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.allocation.bootstrap import AllocationComponents
from services.allocation.store.repository import get_seed, published_bundle, published_run
from services.allocation.web.schemas import DrawSchema
from services.allocation.web.views import draw_view
from shared.errors import NotFound
from shared.web import ProblemSchema, within_budget

blp = Blueprint("draw", __name__, url_prefix="/draws",
                description="Anyone can check a lottery: the commitment from the opening, then the seed "
                            "and the bundle to recompute the draw with guichet-verify --commitment.")

CAMPAIGN_ID = {"in": "path", "name": "campaign_id", "description": "the campaign's id (UUID)"}
BUNDLE_RESPONSE = {200: {"description": "the draw bundle (format guichet-draw/3: pseudonymous lines, what the "
                                         "allocation reads of each, no fact; see docs/allocation.md)",
                         "content": {"application/json": {"schema": {"type": "object"}}}}}


@blp.route("/<uuid:campaign_id>", parameters=[CAMPAIGN_ID])
class Draw(MethodView):
    @blp.response(200, DrawSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="no lottery for this campaign")
    @blp.alt_response(429, schema=ProblemSchema, description="too many requests from this address")
    def get(self, campaign_id: UUID):
        """The lottery's commitment; its seed and bundle once the draw is published"""
        within_budget(AllocationComponents.current().public_budget)
        with AllocationComponents.current().engine.connect() as connection:
            seed = get_seed(connection, campaign_id)
            if seed is None:
                raise NotFound("No lottery seed was committed for this campaign.", code="no-lottery")
            return draw_view(seed, published_run(connection, campaign_id))


# A published bundle never changes: browsers and proxies may keep it; its ETag is the published run's id.
BUNDLE_CACHE_CONTROL = "public, max-age=86400"
# The gzipped bundles of the latest drawn campaigns, per process: megabytes compressed once, not per download.
_GZIPPED: OrderedDict[UUID, bytes] = OrderedDict()
_GZIPPED_KEPT = 4
_GZIPPING = threading.Lock()


def gzipped(run_id: UUID, bundle: str) -> bytes:
    with _GZIPPING:
        found = _GZIPPED.get(run_id)
        if found is None:
            found = gzip.compress(bundle.encode(), compresslevel=6, mtime=0)
            _GZIPPED[run_id] = found
            while len(_GZIPPED) > _GZIPPED_KEPT:
                _GZIPPED.popitem(last=False)
        return found


@blp.route("/<uuid:campaign_id>/bundle.json", parameters=[CAMPAIGN_ID])
class DrawBundle(MethodView):
    @blp.doc(responses=BUNDLE_RESPONSE)
    @blp.alt_response(304, description="not modified: the copy whose ETag was sent in If-None-Match is current")
    @blp.alt_response(404, schema=ProblemSchema, description="the draw is not published")
    @blp.alt_response(429, schema=ProblemSchema, description="too many downloads from this address")
    def get(self, campaign_id: UUID):
        """The published draw bundle: policy, offers, pseudonymous lines (no names, no facts), seed and results

        Sent with an ETag (the published run) and Cache-Control; gzip-compressed when the client accepts it.
        Each address has a small budget of downloads per minute: keep the file, or send If-None-Match."""
        within_budget(AllocationComponents.current().bundle_budget)
        with AllocationComponents.current().engine.connect() as connection:
            run = published_run(connection, campaign_id)
            if run is not None and request.if_none_match.contains(str(run.run_id)):
                return Response(status=304, headers={"ETag": f'"{run.run_id}"',
                                                     "Cache-Control": BUNDLE_CACHE_CONTROL, "Vary": "Accept-Encoding"})
            bundle = None if run is None else published_bundle(connection, campaign_id)
        if bundle is None:
            raise NotFound("No draw has been published for this campaign.", code="draw-not-published")
        if "gzip" in request.accept_encodings:
            response = Response(gzipped(run.run_id, bundle), mimetype="application/json")
            response.headers["Content-Encoding"] = "gzip"
        else:
            response = Response(bundle, mimetype="application/json")
        response.headers.update({"ETag": f'"{run.run_id}"', "Cache-Control": BUNDLE_CACHE_CONTROL,
                                 "Vary": "Accept-Encoding"})
        return response
