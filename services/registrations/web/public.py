"""What anyone may read of registrations: a campaign's waiting room, its seed's commitment before the opening
and the seed after it, so that anyone can check the pre-queue's draw."""
from __future__ import annotations

from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint

from services.registrations.bootstrap import RegistrationsComponents
from services.registrations.web.schemas import RoomSchema
from shared.errors import PROBLEM_CONTENT_TYPE
from shared.web import ProblemSchema

blp = Blueprint("waiting_rooms_public", __name__, url_prefix="/waiting-rooms",
                description="A campaign's waiting room, publicly: its phase, its commitment, its seed.")


@blp.route("/<uuid:campaign_id>")
class Room(MethodView):
    @blp.response(200, RoomSchema)
    @blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE,
                      description="The campaign is unknown or has no waiting room (code waiting-room-not-found)")
    def get(self, campaign_id: UUID):
        """A campaign's waiting room: when it opens, its pace, the seed's commitment (and the seed once drawn)"""
        return RegistrationsComponents.current().waiting_rooms.room(campaign_id)
