"""Parents' pages: household and children, campaigns for each child (with a message at the opening and a
reminder before the close, on request), the application form with its countdown, my applications (accept,
decline), the explanation of a decision, the inbox."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from services.portal.bootstrap import PortalComponents
from services.portal.client.api import ApiError
from services.portal.web.access import client, now, role_required
from services.portal.web.waiting_room import WaitingRoomRequired, room_gate, submit_admitted
from services.portal.wording import CRITERIA, OUTCOMES, PLACE_STATES, REASONS, STANDINGS
from shared.domain.ages import age_on

blp = Blueprint("parents", __name__)
# The ledger's statuses an application may still be withdrawn from (docs/registrations.md): web/places.py.
WITHDRAWABLE = frozenset({"received", "waitlisted", "allocated", "confirmed"})
parent_only = role_required("parent")
# Campaign and offer titles seen by this browser, for the pages shown after a campaign has left the
# public listing (it lists scheduled and open campaigns only). Bounded: the session is a cookie.
REMEMBERED_CAMPAIGNS = 8


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def new_key() -> str:
    """One per rendered form: the form's submissions are one intended request (Idempotency-Key)."""
    return uuid.uuid4().hex


# --- household -------------------------------------------------------------------------------------

def read_household() -> dict[str, Any] | None:
    try:
        answer = client("registrations").get("/household")
    except ApiError as error:
        if error.code == "household-not-found":
            return None
        raise
    return {**answer.data, "etag": answer.headers.get("ETag", "")}


ADDRESS_PARTS = ("line1", "line2", "postal_code", "city")
# The API's field → the form field that shows its error (the whole address: its first line).
ADDRESS_ERRORS = {"postal_address": "address_line1",
                  **{f"postal_address.{part}": f"address_{part}" for part in ADDRESS_PARTS}}


def address_form(form) -> dict[str, Any] | None:
    parts = {part: form.get(f"address_{part}", "").strip() or None for part in ADDRESS_PARTS}
    if not any(parts.values()):
        return None
    return {part: value or "" for part, value in parts.items()} | {"line2": parts["line2"]}


def household_form(form) -> dict[str, Any]:
    tranche = form.get("quotient_tranche") or None
    arrondissement = form.get("arrondissement") or None
    return {
        "single_parent": form.get("single_parent") == "oui",
        "quotient_tranche": int(tranche) if tranche else None,
        "quotient_justified_on": form.get("quotient_justified_on") or None,
        "arrondissement": int(arrondissement) if arrondissement else None,
        "postal_mail": form.get("postal_mail") == "oui",
        "postal_address": address_form(form),
        "email": form.get("email", "").strip() or None,
        "language": form.get("language") or "fr",
    }


def child_form(form) -> dict[str, Any]:
    arrondissement = form.get("school_arrondissement") or None
    return {
        "first_name": form.get("first_name", ""), "last_name": form.get("last_name", ""),
        "birth_date": form.get("birth_date") or None, "school": form.get("school", "").strip() or None,
        "school_arrondissement": int(arrondissement) if arrondissement else None,
        "disability_allowance": form.get("disability_allowance") == "oui",
    }


def family_page(household, facts=None, child=None, errors=None, child_errors=None, status=200):
    return render_template("parents/family.html", household=household,
                           facts=facts or household or {"language": "fr"}, child=child or {},
                           errors=errors or {}, child_errors=child_errors or {}, child_key=new_key()), status


@blp.get("/famille")
@parent_only
def family():
    return family_page(read_household())


@blp.post("/famille")
@parent_only
def save_family():
    facts = household_form(request.form)
    try:
        client("registrations").call("PUT", "/household", body=facts,
                                     headers={"If-Match": request.form.get("etag") or "*"})
    except ApiError as error:
        if error.status not in (412, 422):
            raise
        flash(error.message)
        errors = {ADDRESS_ERRORS.get(field, field): message for field, message in error.field_errors.items()}
        return family_page(read_household(), facts=facts, errors=errors, status=error.status)
    flash("Votre foyer est enregistré.")
    return redirect(url_for("parents.family"))


@blp.post("/famille/enfants")
@parent_only
def add_child():
    child = child_form(request.form)
    try:
        client("registrations").post("/household/children", child,
                                     headers={"Idempotency-Key": request.form.get("idempotency_key") or new_key()})
    except ApiError as error:
        if error.status not in (404, 409, 422):
            raise
        flash(error.message)
        return family_page(read_household(), child=child, child_errors=error.field_errors, status=error.status)
    flash(f"{child['first_name']} est ajouté(e) à votre foyer.")
    return redirect(url_for("parents.family"))


# --- campaigns -------------------------------------------------------------------------------------

def remember(campaign: dict[str, Any]) -> None:
    names = dict(session.get("names") or {})
    names.pop(campaign["id"], None)
    names[campaign["id"]] = {"title": campaign["title"],
                             "offers": {o["id"]: f"{o['title']} — {o['site']}" for o in campaign["offers"]}}
    session["names"] = dict(list(names.items())[-REMEMBERED_CAMPAIGNS:])


def campaign_names(campaign_ids) -> dict[str, dict[str, Any]]:
    """Titles of campaigns and offers, remembered in the session, else read from the campaign's public
    page (which also serves closed campaigns: those a family applied to leave the listing)."""
    for campaign_id in dict.fromkeys(campaign_ids):
        if campaign_id not in (session.get("names") or {}):
            try:
                remember(client("campaigns").get(f"/public/campaigns/{campaign_id}").data)
            except ApiError as error:
                if error.status != 404:
                    raise
    return session.get("names") or {}


def listing(birth_date: str | None = None) -> list[dict[str, Any]]:
    campaigns = client("campaigns").get("/public/campaigns", {"birth_date": birth_date}).data
    for campaign in campaigns:
        campaign["is_open"] = instant(campaign["opens_at"]) <= now() < instant(campaign["closes_at"])
    return campaigns


@blp.get("/campagnes")
@parent_only
def campaigns():
    household = read_household()
    if household is None:
        flash("Déclarez d'abord votre foyer et vos enfants : les campagnes sont proposées selon leur âge.")
        return redirect(url_for("parents.family"))
    per_child = [(child, listing(child["birth_date"])) for child in household["children"]]
    return render_template("parents/campaigns.html", per_child=per_child, followed=followed())


# --- following a campaign: a message at its opening, a reminder 24 h before its close (notifications) ----

FOLLOWED_PATHS = {"ouverture": "/notifications/subscriptions", "cloture": "/notifications/closing-reminders"}
FOLLOW_DONE = {
    ("ouverture", "suivre"): "C'est noté : vous recevrez un message à l'ouverture des inscriptions.",
    ("ouverture", "arreter"): "Vous ne recevrez pas de message à l'ouverture des inscriptions.",
    ("cloture", "suivre"): "C'est noté : vous recevrez un rappel 24 heures avant la clôture des inscriptions.",
    ("cloture", "arreter"): "Le rappel avant la clôture des inscriptions est annulé.",
}
FOLLOW_REFUSED = {
    "campaign-already-open": "Les inscriptions sont déjà ouvertes : vous pouvez faire votre demande dès maintenant.",
    "campaign-closed": "Les inscriptions à cette campagne sont closes.",
    "campaign-not-found": "Cette campagne vient d'être publiée : réessayez dans quelques instants.",
}
# Asking to stop what was not asked (or already stopped, in another tab) leaves the family where it wanted.
ALREADY_STOPPED = frozenset({"subscription-not-found", "closing-reminder-not-found"})


def followed() -> dict[str, set[str]] | None:
    """The campaigns the family will be told of at their opening and reminded of before their close; None
    while notifications does not answer: the buttons are left out, the campaigns still shown."""
    try:
        return {moment: {entry["campaign_id"] for entry in client("notifications").get(path).data}
                for moment, path in FOLLOWED_PATHS.items()}
    except ApiError as error:
        if error.status < 500:
            raise
        return None


@blp.post("/campagnes/<uuid:campaign_id>/<any(ouverture, cloture):moment>")
@parent_only
def follow(campaign_id, moment):
    action = "arreter" if request.form.get("action") == "arreter" else "suivre"
    try:
        client("notifications").call("DELETE" if action == "arreter" else "PUT",
                                     f"{FOLLOWED_PATHS[moment]}/{campaign_id}")
    except ApiError as error:
        if error.code in ALREADY_STOPPED:
            flash(FOLLOW_DONE[moment, action])
        elif error.status in (404, 409):
            flash(FOLLOW_REFUSED.get(error.code, error.message))
        else:
            raise
    else:
        flash(FOLLOW_DONE[moment, action])
    child_id = request.form.get("child_id", "")
    try:
        back = url_for("parents.apply", campaign_id=campaign_id, child_id=uuid.UUID(child_id))
    except ValueError:
        back = url_for("parents.campaigns")
    return redirect(back)


def child_and_campaign(campaign_id: str, child_id: str):
    household = read_household() or abort(404)
    child = next((c for c in household["children"] if c["child_id"] == child_id), None) or abort(404)
    campaign = next((c for c in listing(child["birth_date"]) if c["id"] == campaign_id), None)
    return household, child, campaign


# An application another child may be kept with: still in the running.
KEEPABLE = frozenset({"pending", "received"})


def sibling_applications(household: dict[str, Any], campaign: dict[str, Any], child_id: str) -> list[dict[str, Any]]:
    """The family's other children's applications to this campaign, when it keeps siblings together (one
    `GET /applications` more, for those campaigns only)."""
    if not campaign.get("keep_siblings_together"):
        return []
    names = {c["child_id"]: c["first_name"] for c in household["children"]}
    return [{"application_id": a["application_id"], "first_name": names.get(a["child_id"], "un autre enfant")}
            for a in client("registrations").get("/applications").data
            if a["campaign_id"] == campaign["id"] and a["child_id"] != child_id and a["status"] in KEEPABLE]


def application_page(campaign_id: str, child_id: str, *, chosen=(), errors=None, key=None, status=200,
                     message=None, retry_after=None, kept=()):
    household, child, campaign = child_and_campaign(campaign_id, child_id)
    if campaign is None:
        return render_template("parents/closed.html", child=child), 404
    remember(campaign)
    moment = now()
    opens_at, closes_at = instant(campaign["opens_at"]), instant(campaign["closes_at"])
    tranche = household.get("effective_tranche") or 10
    # The follow buttons before the opening only: once open, this page takes the surge, and the list has them.
    return render_template(
        "parents/apply.html", campaign=campaign, child=child, tranche=tranche,
        age=age_on(date.fromisoformat(child["birth_date"]), date.fromisoformat(campaign["reference_date"])),
        phase="before" if moment < opens_at else ("open" if moment < closes_at else "after"),
        server_now_ms=int(moment.timestamp() * 1000), opens_at_ms=int(opens_at.timestamp() * 1000),
        chosen=list(chosen), errors=errors or {}, key=key or new_key(), message=message,
        retry_after=retry_after, kept=list(kept), followed=followed() if moment < opens_at else None,
        siblings=sibling_applications(household, campaign, child_id) if moment >= opens_at else []), status


@blp.get("/campagnes/<uuid:campaign_id>/enfants/<uuid:child_id>")
@parent_only
def apply(campaign_id, child_id):
    if (gate := room_gate(str(campaign_id), str(child_id))) is not None:  # the campaign's waiting room first
        return gate
    return application_page(str(campaign_id), str(child_id))


@blp.post("/campagnes/<uuid:campaign_id>/enfants/<uuid:child_id>")
@parent_only
def submit(campaign_id, child_id):
    campaign_id, child_id = str(campaign_id), str(child_id)
    key = request.form.get("idempotency_key") or new_key()
    chosen = [request.form.get(f"choice_{n}", "") for n in range(1, 11)]
    choices = [c for c in chosen if c]
    kept = request.form.getlist("keep_with")
    body = {"campaign_id": campaign_id, "child_id": child_id, "choices": choices, "keep_with_applications": kept,
            "sworn_statement": request.form.get("sworn_statement") == "oui"}
    try:
        ack = submit_admitted(campaign_id, child_id, lambda admission: client("registrations").post(
            "/applications", body, headers={"Idempotency-Key": key, **admission})).data
    except WaitingRoomRequired as wait:
        return redirect(wait.url)
    except ApiError as error:
        if error.status >= 500 and error.status != 503:
            raise
        errors = error.field_errors
        # choices.1 → the second select; the application's own fields keep their names.
        errors = {(f"choice_{int(f.split('.')[1]) + 1}" if f.startswith("choices.") else
                   "keep_with" if f.startswith("keep_with_applications") else f): m for f, m in errors.items()}
        # A refusal recorded nothing: the same key may be sent again (the service replays only successes).
        return application_page(campaign_id, child_id, chosen=chosen, errors=errors, key=key,
                                status=error.status, message=error.message, retry_after=error.retry_after,
                                kept=kept)
    return render_template("parents/submitted.html", ack=ack, hold=ack.get("hold") or {},
                           names=(session.get("names") or {}).get(campaign_id, {}))


# --- applications ------------------------------------------------------------------------------------

def child_names() -> dict[str, str]:
    household = read_household() or {"children": []}
    return {c["child_id"]: f"{c['first_name']} {c['last_name']}" for c in household["children"]}


def can_answer(application: dict[str, Any]) -> bool:
    deadline = application.get("offer_expires_at")
    return application["status"] == "allocated" and bool(deadline) and instant(deadline) > now()


# Where an agent's action (accept, decline, withdraw) leads, and all that may follow it: only an application in
# one of these, or one an agent applied for (`applied_by_agent`), may carry an agent's transition, so only those
# are read one by one for their history.
AFTER_AN_AGENT = frozenset({"confirmed", "declined", "withdrawn"})


def agents_acts(found: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Application id → the transitions a city agent made for the family (« fait par un agent … »)."""
    acts = {}
    for application in found:
        if application["status"] in AFTER_AN_AGENT or application.get("applied_by_agent"):
            history = client("registrations").get(f"/applications/{application['application_id']}").data["history"]
            acts[application["application_id"]] = [t for t in history if t.get("acted_by_agent")]
    return acts


@blp.get("/demandes")
@parent_only
def applications():
    found = client("registrations").get("/applications").data
    return render_template("parents/applications.html", applications=found, children=child_names(),
                           names=campaign_names(a["campaign_id"] for a in found), can_answer=can_answer,
                           key=new_key(), withdrawable=WITHDRAWABLE, by_agents=agents_acts(found))


@blp.post("/demandes/<uuid:application_id>/<any(accepter, refuser):answer>")
@parent_only
def answer_offer(application_id, answer):
    path = f"/applications/{application_id}/{'accept' if answer == 'accepter' else 'decline'}"
    try:
        client("registrations").post(path, headers={"Idempotency-Key": request.form.get("idempotency_key") or new_key()})
    except ApiError as error:
        if error.status not in (404, 409):
            raise
        flash(error.message)
    else:
        flash("Place acceptée : l'inscription est confirmée." if answer == "accepter"
              else "Place refusée : elle est proposée à l'enfant suivant sur la liste d'attente.")
    return redirect(url_for("parents.applications"))


@blp.get("/demandes/<uuid:application_id>/explication")
@parent_only
def explanation(application_id):
    try:
        found = client("allocation").get(f"/explanations/{application_id}").data
    except ApiError as error:
        if error.status not in (404, 409):
            raise
        return render_template("error.html", status=error.status, message=error.message), error.status
    return render_template("parents/explanation.html", x=found, names=campaign_names([found["campaign_id"]]).get(
        found["campaign_id"], {}), outcomes=OUTCOMES, standings=STANDINGS, reasons=REASONS, place_states=PLACE_STATES,
        criteria=CRITERIA, draw_url=PortalComponents.current().settings.draw_record_url(found["campaign_id"]))


# --- inbox ---------------------------------------------------------------------------------------------

@blp.get("/messages")
@parent_only
def inbox():
    return render_template("parents/inbox.html", messages=client("notifications").get("/notifications/inbox").data)


@blp.post("/messages/<uuid:message_id>/lu")
@parent_only
def mark_read(message_id):
    client("notifications").post(f"/notifications/inbox/{message_id}/read")
    return redirect(url_for("parents.inbox"))


@blp.get("/applications/<uuid:application_id>/explanation")
def explanation_link(application_id):
    """Messages link to GUICHET_PORTAL_URL + allocation's explanation path: the same page, in French."""
    return redirect(url_for("parents.explanation", application_id=application_id))
