"""A family's places beyond the answer to an offer: withdraw an application (with what it means, said
before the button), and the calendar file (.ics) of the confirmed places."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import icalendar
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from services.portal.client.api import ApiError
from services.portal.web.access import client, now, role_required
from services.portal.web.parents import WITHDRAWABLE, child_names, instant, new_key
from shared.domain.paris import PARIS

blp = Blueprint("places", __name__)
parent_only = role_required("parent")

HOLDING_A_PLACE = frozenset({"allocated", "confirmed"})


def public_campaign(campaign_id: str) -> dict[str, Any] | None:
    try:
        return client("campaigns").get(f"/public/campaigns/{campaign_id}").data
    except ApiError as error:
        if error.status != 404:
            raise
        return None


def offer_of(campaign: dict[str, Any] | None, offer_id: str | None) -> dict[str, Any] | None:
    return next((o for o in (campaign or {}).get("offers", ()) if o["id"] == offer_id), None)


def activity_over(offer: dict[str, Any] | None) -> bool:
    """A place is not withdrawn once its activity's last day has passed (Paris calendar)."""
    return offer is not None and now().astimezone(PARIS).date() > date.fromisoformat(offer["ends_on"])


def can_withdraw(application: dict[str, Any], offer: dict[str, Any] | None = None) -> bool:
    if application["status"] not in WITHDRAWABLE:
        return False
    return application["status"] not in HOLDING_A_PLACE or not activity_over(offer)


def cancellation_terms(campaign: dict[str, Any], offer: dict[str, Any] | None) -> dict[str, Any]:
    """The campaign's cancellation rule for a confirmed place, as of now: free until an instant (by
    default the activity's first day, midnight Paris time), then the price less a fee, or no credit."""
    free_until = campaign.get("free_withdrawal_until")
    until = instant(free_until) if free_until else (
        datetime.combine(date.fromisoformat(offer["starts_on"]), time(0), PARIS) if offer else None)
    return {"free_until": until, "free_now": until is None or now() < until,
            "fee_cents": campaign.get("late_withdrawal_fee_cents")}


def withdrawal_facts(application_id: str) -> dict[str, Any]:
    application = client("registrations").get(f"/applications/{application_id}").data
    campaign = public_campaign(application["campaign_id"]) or {}
    offer = offer_of(campaign, application.get("placed_offer_id"))
    return {"a": application, "campaign": campaign, "offer": offer,
            "first_come": campaign.get("allocation_mode") == "fcfs",
            "terms": cancellation_terms(campaign, offer) if application["status"] == "confirmed" else None,
            "child": child_names().get(application["child_id"], "votre enfant"),
            "possible": can_withdraw(application, offer)}


@blp.get("/demandes/<uuid:application_id>/retrait")
@parent_only
def withdraw_page(application_id):
    try:
        facts = withdrawal_facts(str(application_id))
    except ApiError as error:
        if error.status != 404:
            raise
        return render_template("error.html", status=404, message=error.message), 404
    return render_template("parents/withdraw.html", key=new_key(), **facts)


@blp.post("/demandes/<uuid:application_id>/retrait")
@parent_only
def withdraw(application_id):
    try:
        client("registrations").post(f"/applications/{application_id}/withdraw",
                                     headers={"Idempotency-Key": request.form.get("idempotency_key") or new_key()})
    except ApiError as error:
        if error.status not in (404, 409):
            raise
        flash(error.message)
        return redirect(url_for("places.withdraw_page", application_id=application_id))
    flash("Votre demande est retirée.")
    return redirect(url_for("parents.applications"))


# --- the calendar file -------------------------------------------------------------------------------

def confirmed_places() -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """(application, campaign, offer) for every confirmed place of the family."""
    found = [a for a in client("registrations").get("/applications").data if a["status"] == "confirmed"]
    campaigns = {cid: public_campaign(cid) for cid in dict.fromkeys(a["campaign_id"] for a in found)}
    places = []
    for application in found:
        campaign = campaigns[application["campaign_id"]]
        offer = offer_of(campaign, application.get("placed_offer_id"))
        if campaign and offer:
            places.append((application, campaign, offer))
    return places


def calendar_of(places, children: dict[str, str], stamp: datetime) -> bytes:
    """One all-day event per confirmed place, on the activity's days (Paris calendar: offers have days,
    not hours), its uid the application's so a calendar that imports the file again updates it."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Ville de Paris//Guichet inscriptions//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Mes places confirmées — Ville de Paris")
    calendar.add("x-wr-timezone", "Europe/Paris")
    for application, campaign, offer in places:
        child = children.get(application["child_id"], "Enfant")
        event = icalendar.Event()
        event.add("uid", f"{application['application_id']}@guichet.paris.fr")
        event.add("dtstamp", stamp)
        event.add("summary", f"{offer['title']} — {child}")
        event.add("location", offer["site"])
        event.add("dtstart", date.fromisoformat(offer["starts_on"]))
        event.add("dtend", date.fromisoformat(offer["ends_on"]) + timedelta(days=1))  # exclusive (RFC 5545)
        event.add("description", f"{campaign['title']} : place confirmée pour {child} ({offer['site']}, "
                                 f"{offer['arrondissement']}e arrondissement).")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()


@blp.get("/demandes/calendrier.ics")
@parent_only
def calendar_file():
    body = calendar_of(confirmed_places(), child_names(), now())
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": 'attachment; filename="mes-places.ics"'})
