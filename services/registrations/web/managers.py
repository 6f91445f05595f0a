"""What managers read of registrations: a campaign's intake counters while its window is open, and its waiting room
live. A manager reads only the campaigns its scope covers (GUICHET_MANAGER_SCOPES, shared.auth): 403 `out-of-scope`
otherwise; a campaign registrations has not heard of is covered only by city-wide rights or by its own name."""
from __future__ import annotations

from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint

from services.registrations.bootstrap import RegistrationsComponents
from services.registrations.store.ledger import intake_counters
from services.registrations.store.scopes import campaign_kind
from services.registrations.web.schemas import IntakeCountersSchema, RoomLiveSchema
from shared.auth import require_manager_scope, require_roles
from shared.errors import PROBLEM_CONTENT_TYPE
from shared.web import ProblemSchema


def in_scope(campaign_id: UUID) -> None:
    """403 unless the manager's scope covers the campaign (its kind, or its id)."""
    require_manager_scope(campaign_kind(RegistrationsComponents.current().engine, campaign_id) or "", campaign_id)


OUT_OF_SCOPE = {"schema": ProblemSchema, "content_type": PROBLEM_CONTENT_TYPE,
                "description": "the campaign is outside your manager scope (code out-of-scope)"}

blp = Blueprint("intake_counters", __name__, url_prefix="/applications",
                description="Applications received for a campaign: the managers' live view of a window.")


@blp.route("/counters/<uuid:campaign_id>")
class IntakeCounters(MethodView):
    @require_roles("manager")
    @blp.response(200, IntakeCountersSchema)
    @blp.alt_response(403, **OUT_OF_SCOPE)
    def get(self, campaign_id: UUID):
        """Applications received for a campaign, per minute and per offer (managers' live view of a window)

        Read from the ledger: an application acknowledged a moment ago appears once the intake consumer
        has written it (usually within a second)."""
        in_scope(campaign_id)
        return intake_counters(RegistrationsComponents.current().engine, campaign_id)


room_blp = Blueprint("waiting_rooms_live", __name__, url_prefix="/waiting-rooms",
                     description="A campaign's waiting room, live, for its managers.")


@room_blp.route("/<uuid:campaign_id>/live")
class RoomLive(MethodView):
    @require_roles("manager")
    @room_blp.response(200, RoomLiveSchema)
    @room_blp.alt_response(403, **OUT_OF_SCOPE)
    @room_blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE,
                           description="The campaign is unknown or has no waiting room (code waiting-room-not-found)")
    def get(self, campaign_id: UUID):
        """The room live: families waiting, admitted in the last minute, the pace, the oldest wait"""
        in_scope(campaign_id)
        live = RegistrationsComponents.current().waiting_rooms.live(campaign_id)
        figures = live.figures
        return {"campaign_id": live.campaign_id, "phase": live.phase, "joined": figures.joined,
                "admitted": figures.released, "waiting": figures.joined - figures.released,
                "admitted_last_minute": figures.admitted_last_minute, "pace_per_minute": live.pace_per_minute,
                "admissions_per_minute": live.admissions_per_minute,
                "oldest_waiting_since": figures.oldest_waiting_since}
