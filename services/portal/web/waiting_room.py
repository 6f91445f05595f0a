"""The waiting page: a family waits in a campaign's waiting room (registrations' `/waiting-rooms`), sees its
position, how many families are ahead and an estimated wait, and is taken to the application form, its
admission token carried, when its turn comes (docs/portal.md#the-waiting-room).

The page asks again when the server says (`Retry-After`, jittered by registrations): with JavaScript the numbers
are fetched as JSON (`…/attente/etat`) and a screen reader hears a change of position at most every 30 s;
without it, the page refreshes itself (never more often than every 30 s) and has a link to do it by hand.
When the room is busy (503), the page says the family's place comes back in a few seconds and asks again after
`Retry-After`, with or without JavaScript; a refused join's arrival ticket is kept in the session and sent back
with the next join, so the family keeps the place its first arrival earned (docs/registrations.md, "Arrival
tickets"); a join refused at the edge (no ticket: the edge keeps no place) sends back the refusal's Retry-After
as `Join-Backoff`, so that, refused again, it waits longer (docs/registrations.md, "Refused joins at the edge").
The room's `Poll-Backoff` (how long a refused poll waits: docs/registrations.md, "Refused polls") goes
to the page with each place, and the page's script sends it back with its next poll, which passes it on: a poll
the room or the edge refuses then comes back no sooner than the room would have told the family.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for

from services.portal.client.api import Answer, ApiError
from services.portal.web.access import client, now, role_required

blp = Blueprint("waiting_room", __name__)
parent_only = role_required("parent")

ADMISSION_HEADER = "Admission-Token"
ADMISSIONS = "admissions"  # session: campaign id → the room's admission token
ARRIVAL_TICKET_HEADER = "Arrival-Ticket"
ARRIVALS = "arrival_tickets"  # session: campaign id → the arrival ticket of its last join refused as busy
# Registrations' edge's header (deploy/local/servers/nginx.py, JOIN_BACKOFF): a join refused there without an arrival
# ticket is told when to come back; sent back with the next join, a refusal of it is told to wait longer.
JOIN_BACKOFF_HEADER = "Join-Backoff"
JOIN_BACKOFFS = "join_backoffs"  # session: campaign id → the Retry-After of its last join refused without a ticket
REMEMBERED_ADMISSIONS = 8
# Without JavaScript the whole page reloads, and a screen reader reads it again: not more than every 30 s.
NO_SCRIPT_REFRESH_SECONDS = 30
ROOM_OPEN = ("pre_queue", "open")
# A busy room (registrations' 503 waiting-room-busy, or any 503): the page says so and asks again after Retry-After.
BUSY = {"state": "busy", "position": None}
BUSY_RETRY_SECONDS = 5  # when the answer names no Retry-After
# Registrations' header (web/parents/waiting_room_fast.py, POLL_BACKOFF), carried between it and the page both ways.
POLL_BACKOFF_HEADER = "Poll-Backoff"


class WaitingRoomRequired(Exception):
    """The campaign's room admits families and this one has no valid admission: it waits first."""

    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


def admission_token(campaign_id: str) -> str | None:
    return (session.get(ADMISSIONS) or {}).get(campaign_id)


def keep_admission(campaign_id: str, token: str) -> None:
    admissions = dict(session.get(ADMISSIONS) or {})
    admissions.pop(campaign_id, None)
    admissions[campaign_id] = token
    session[ADMISSIONS] = dict(list(admissions.items())[-REMEMBERED_ADMISSIONS:])


def with_backoff(answer: Answer) -> dict[str, Any]:
    """The place registrations answered, with the Poll-Backoff it gave (as `poll_backoff`; None without one)."""
    backoff = answer.headers.get(POLL_BACKOFF_HEADER)
    return answer.data | {"poll_backoff": int(backoff) if backoff and backoff.isdigit() else None}


def join_room(campaign_id: str) -> dict[str, Any]:
    """Take the family's place, with the arrival ticket of a join refused before (then spent); refused as busy,
    the new ticket is kept for the next join (it carries the first refusal's instant). Refused without a ticket
    (by the edge), the refusal's Retry-After is kept and sent back as Join-Backoff with the next join."""
    arrivals, backoffs = dict(session.get(ARRIVALS) or {}), dict(session.get(JOIN_BACKOFFS) or {})
    ticket, backoff = arrivals.get(campaign_id), backoffs.get(campaign_id)
    headers = {ARRIVAL_TICKET_HEADER: ticket} if ticket else {}
    if backoff:
        headers[JOIN_BACKOFF_HEADER] = backoff
    try:
        place = with_backoff(client("registrations").call(
            "PUT", f"/waiting-rooms/{campaign_id}/place", headers=headers or None))
    except ApiError as error:
        if error.status == 503:
            backoffs.pop(campaign_id, None)
            if error.problem.get("arrival_ticket"):
                arrivals.pop(campaign_id, None)
                arrivals[campaign_id] = error.problem["arrival_ticket"]
                session[ARRIVALS] = dict(list(arrivals.items())[-REMEMBERED_ADMISSIONS:])
            elif error.retry_after:
                backoffs[campaign_id] = str(error.retry_after)
            session[JOIN_BACKOFFS] = dict(list(backoffs.items())[-REMEMBERED_ADMISSIONS:])
        raise
    if ticket is not None:
        arrivals.pop(campaign_id, None)
        session[ARRIVALS] = arrivals
    if backoff is not None:
        backoffs.pop(campaign_id, None)
        session[JOIN_BACKOFFS] = backoffs
    return place


def read_room(campaign_id: str) -> dict[str, Any] | None:
    try:
        return client("registrations").get(f"/waiting-rooms/{campaign_id}").data
    except ApiError as error:
        if error.status == 404:
            return None
        raise


def waiting_url(campaign_id: str, child_id: str) -> str:
    return url_for("waiting_room.wait", campaign_id=campaign_id, child_id=child_id)


def room_gate(campaign_id: str, child_id: str):
    """For the application form: None when the family may see it, else a redirect to the waiting page."""
    if admission_token(campaign_id):
        return None
    room = read_room(campaign_id)
    if room is None or room["phase"] == "closed":
        return None
    return redirect(waiting_url(campaign_id, child_id))


def submit_admitted(campaign_id: str, child_id: str, send: Callable[[dict[str, str]], Answer]) -> Answer:
    """Send a submission with the family's admission token; one refused as stale or missing is sent once more
    with a fresh token when the room still admits the family, else the family is sent to wait."""
    token = admission_token(campaign_id)
    try:
        return send({ADMISSION_HEADER: token} if token else {})
    except ApiError as error:
        if not error.code.startswith("admission-token-"):
            raise
    place = client("registrations").get(f"/waiting-rooms/{campaign_id}/place").data
    if place["state"] != "admitted":
        raise WaitingRoomRequired(waiting_url(campaign_id, child_id))
    keep_admission(campaign_id, place["admission_token"])
    return send({ADMISSION_HEADER: place["admission_token"]})


def minutes(seconds: int | None) -> int | None:
    return None if seconds is None else max(1, math.ceil(seconds / 60))


def announcement(place: dict[str, Any]) -> str:
    """What a screen reader hears (at most every 30 s): the position and the estimate, in one sentence."""
    if place["state"] == "admitted":
        return "C'est votre tour : le formulaire s'ouvre."
    if place["state"] == "pre_queue":
        return "Vous êtes dans la file. L'ordre de passage sera tiré au sort à l'ouverture."
    if place["state"] == "waiting":
        wait = minutes(place["estimated_wait_seconds"])
        return (f"Vous êtes n° {place['position']}. {place['ahead']} famille(s) avant vous. "
                f"Attente estimée : environ {wait} minute(s).")
    return "Reprenez une place dans la file."


def status_document(place: dict[str, Any], campaign_id: str, child_id: str) -> dict[str, Any]:
    admitted = place["state"] == "admitted"
    return {"state": place["state"], "position": place["position"], "ahead": place["ahead"],
            "waiting": place["waiting"], "estimated_minutes": minutes(place["estimated_wait_seconds"]),
            "pace_per_minute": round(place["pace_per_minute"]), "announcement": announcement(place),
            "poll_after": place["poll_after_seconds"], "poll_backoff": place.get("poll_backoff"),
            "next": url_for("parents.apply", campaign_id=campaign_id, child_id=child_id) if admitted else None}


@blp.get("/campagnes/<uuid:campaign_id>/enfants/<uuid:child_id>/attente")
@parent_only
def wait(campaign_id, child_id):
    """Take (or find again) the family's place and show it; admitted: on to the form, the token kept."""
    campaign_id, child_id = str(campaign_id), str(child_id)
    apply_url = url_for("parents.apply", campaign_id=campaign_id, child_id=child_id)
    room = read_room(campaign_id)
    if room is None or room["phase"] == "closed":
        return redirect(apply_url)
    if room["phase"] == "not_yet":
        opens = room["pre_queue_opens_at"]
        return render_template("parents/waiting.html", room=room, place=None, apply_url=apply_url,
                               server_now_ms=int(now().timestamp() * 1000), refresh=NO_SCRIPT_REFRESH_SECONDS,
                               pre_queue_opens_ms=_ms(opens))
    status_url = url_for("waiting_room.status", campaign_id=campaign_id, child_id=child_id)
    try:
        place = join_room(campaign_id)
    except ApiError as error:
        if error.status != 503:
            raise
        # The room answers as many families as it can at once: this page asks again after Retry-After.
        retry = error.retry_after or BUSY_RETRY_SECONDS
        # Only a refusal that gave an arrival ticket (the room's processes) keeps the family's arrival order; the
        # edge's keeps nothing, and the page must not say otherwise.
        kept = bool(error.problem.get("arrival_ticket"))
        return render_template("parents/waiting.html", room=room, place=BUSY | {"poll_after": retry, "kept": kept},
                               apply_url=apply_url, status_url=status_url, refresh=retry), 503, {
            "Retry-After": str(retry), "Cache-Control": "no-store"}
    if place["state"] == "admitted":
        keep_admission(campaign_id, place["admission_token"])
        return redirect(apply_url)
    document = status_document(place, campaign_id, child_id)
    return render_template("parents/waiting.html", room=room, place=document, apply_url=apply_url,
                           status_url=status_url, refresh=max(NO_SCRIPT_REFRESH_SECONDS, place["poll_after_seconds"]))


@blp.get("/campagnes/<uuid:campaign_id>/enfants/<uuid:child_id>/attente/etat")
@parent_only
def status(campaign_id, child_id):
    """The page's numbers as JSON, for its script; `Retry-After` says when to ask again."""
    campaign_id, child_id = str(campaign_id), str(child_id)
    backoff = request.headers.get(POLL_BACKOFF_HEADER, "")
    try:
        # the backoff the page sent back, passed on as registrations reads it (plain digits; anything else: none)
        place = with_backoff(client("registrations").get(
            f"/waiting-rooms/{campaign_id}/place",
            headers={POLL_BACKOFF_HEADER: backoff} if backoff.isascii() and backoff.isdigit() else None))
        if place["state"] in ("not_joined", "expired"):  # a lapsed admission (or a busy room): take a place
            place = join_room(campaign_id)
    except ApiError as error:
        retry = str(error.retry_after or 15)
        return jsonify({"state": "unavailable", "poll_after": int(retry)}), 503, {"Retry-After": retry}
    if place["state"] == "admitted":
        keep_admission(campaign_id, place["admission_token"])
    headers = {"Retry-After": str(place["poll_after_seconds"]), "Cache-Control": "no-store"}
    if place["poll_backoff"] is not None:
        headers[POLL_BACKOFF_HEADER] = str(place["poll_backoff"])
    return jsonify(status_document(place, campaign_id, child_id)), 200, headers


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
