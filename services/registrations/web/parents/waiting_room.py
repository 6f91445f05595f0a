"""The waiting room for parents: take a place in a campaign's room (one per family account: a second tab or
device gets the same place) and read it — position, families ahead, an estimated wait, and once admitted the
admission token POST /applications asks for. `Retry-After` (and `poll_after_seconds`) say when to ask again: the
server lengthens the interval with the crowd, so a room's polls stay within a budget, and spreads them
with jitter. The ordinary answers are given before Flask (waiting_room_fast.py)."""
from __future__ import annotations

from uuid import UUID

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.registrations.bootstrap import RegistrationsComponents
from services.registrations.usecases.waiting_room import PlaceView
from services.registrations.web.parents.waiting_room_fast import POLL_BACKOFF
from services.registrations.web.schemas import PlaceSchema
from shared.auth import current_principal, require_roles
from shared.errors import PROBLEM_CONTENT_TYPE
from shared.web import ProblemSchema

blp = Blueprint("waiting_room", __name__, url_prefix="/waiting-rooms",
                description="A campaign's waiting room: a fair opening, families admitted at the pace intake holds.")


# Answered by web/parents/waiting_room_fast.py, before Flask: these routes give every other answer and the doc.
BUSY = ("This process answers as many joins and polls as it can: ask again after Retry-After, your place is kept "
        "(code waiting-room-busy, nothing read or written). A refused join carries an arrival ticket (header "
        "Arrival-Ticket, field arrival_ticket): send it back in the next join's Arrival-Ticket header to keep your "
        "arrival order. A refused poll that sent back the Poll-Backoff header of the last answer is told to come "
        "back no sooner than that many seconds. A join refused by the edge in front (header Shed-By: edge) has no "
        "arrival ticket and keeps no place: send back its Join-Backoff header with the next join")


def answered(view: PlaceView) -> tuple[PlaceView, int, dict[str, str]]:
    headers = {"Retry-After": str(view.poll_after_seconds), "Cache-Control": "no-store",
               POLL_BACKOFF: str(view.poll_backoff_seconds)}
    if view.arrival_ticket is not None:
        headers["Arrival-Ticket-Outcome"] = str(view.arrival_ticket)
    return view, 200, headers


@blp.route("/<uuid:campaign_id>/place")
class Place(MethodView):
    @require_roles("parent")
    @blp.response(200, PlaceSchema)
    @blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE,
                      description="The campaign is unknown or has no waiting room (code waiting-room-not-found)")
    @blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE,
                      description="The room is not open yet (waiting-room-not-open, with opens_at) or the window has closed (window-closed)")
    @blp.alt_response(503, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE,
                      description=BUSY)
    def put(self, campaign_id: UUID):
        """Take my place in the room (again: the same place)

        Before the opening, families join the pre-queue, whose order is drawn at the opening from the room's
        committed seed; after it, they queue in arrival order. A join refused as busy (503) carries an arrival
        ticket (header `Arrival-Ticket`, problem field `arrival_ticket`, valid 30 s, bound to the bearer token):
        sent back in the `Arrival-Ticket` header of the next join, it places the family where its first arrival
        put it, never ahead of a family already admitted. A ticket that is not valid is ignored (a fresh join);
        `Arrival-Ticket-Outcome` says what became of it: honoured, kept (the family already had a place),
        ignored-invalid, ignored-foreign, ignored-expired, ignored-reused."""
        bearer = request.headers.get("Authorization", "").partition(" ")[2].strip()
        return answered(RegistrationsComponents.current().waiting_rooms.join(
            current_principal().subject, campaign_id, request.headers.get("Arrival-Ticket"), bearer))

    @require_roles("parent")
    @blp.response(200, PlaceSchema)
    @blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE,
                      description="The campaign is unknown or has no waiting room (code waiting-room-not-found)")
    @blp.alt_response(503, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE,
                      description=BUSY)
    def get(self, campaign_id: UUID):
        """My place: position, families ahead, estimated wait; once admitted, the admission token

        `Retry-After` (and `poll_after_seconds`) say when to ask again. `Poll-Backoff` says how long to wait should
        that next poll be refused as busy: send it back in the next poll's `Poll-Backoff` header, and a refusal
        (by the room's processes or by the edge in front of them) sends the family back no sooner than the room
        would have (a page that sends none is sent back after a few seconds by the edge)."""
        return answered(RegistrationsComponents.current().waiting_rooms.place(current_principal().subject,
                                                                              campaign_id))
