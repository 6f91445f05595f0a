"""A family changes an application's ranked choices before the close (lottery campaigns, application not yet
decided): the same selects as the application form, sent as one replacement (`PUT /applications/{id}/choices`),
never a withdrawal and a new application. The application keeps its id and its draw line."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.portal.client.api import ApiError
from services.portal.web.access import client, now, role_required
from services.portal.web.parents import KEEPABLE, instant, new_key, read_household
from services.portal.web.places import public_campaign
from shared.domain.ages import age_on

blp = Blueprint("choices", __name__)
parent_only = role_required("parent")


def can_change(application: dict[str, Any], campaign: dict[str, Any] | None) -> bool:
    """The rule registrations applies (docs/registrations.md#changing-choices), said before the form."""
    return (campaign is not None and application["status"] == "received"
            and campaign.get("allocation_mode") != "fcfs" and now() < instant(campaign["closes_at"]))


def offers_for(campaign: dict[str, Any], birth_date: str | None) -> list[dict[str, Any]]:
    """The campaign's offers open to the child's age at the reference date, as the application form lists them."""
    if not birth_date:
        return campaign["offers"]
    age = age_on(date.fromisoformat(birth_date), date.fromisoformat(campaign["reference_date"]))
    return [o for o in campaign["offers"] if o.get("min_age", 0) <= age <= o.get("max_age", age)]


def choices_facts(application_id: str) -> dict[str, Any]:
    application = client("registrations").get(f"/applications/{application_id}").data
    campaign = public_campaign(application["campaign_id"])
    children = {c["child_id"]: c for c in (read_household() or {"children": []})["children"]}
    child = children.get(application["child_id"], {})
    siblings = []
    if campaign and campaign.get("keep_siblings_together"):
        siblings = [{"application_id": a["application_id"],
                     "first_name": children.get(a["child_id"], {}).get("first_name", "un autre enfant")}
                    for a in client("registrations").get("/applications").data
                    if a["campaign_id"] == application["campaign_id"] and a["child_id"] != application["child_id"]
                    and a["status"] in KEEPABLE]
    # An entry of the history that moves no status is a change of choices (docs/registrations.md#changing-choices).
    changed_at = [entry["at"] for entry in application.get("history", ()) if entry["from_status"] == entry["to_status"]]
    return {"a": application, "campaign": campaign or {}, "child": child, "changed_at": changed_at,
            "offers": offers_for(campaign, child.get("birth_date")) if campaign else [],
            "siblings": siblings, "possible": can_change(application, campaign)}


def choices_page(application_id: str, *, chosen=None, kept=None, errors=None, key=None, message=None, status=200):
    try:
        facts = choices_facts(application_id)
    except ApiError as error:
        if error.status != 404:
            raise
        return render_template("error.html", status=404, message=error.message), 404
    application = facts["a"]
    return render_template("parents/choices.html", key=key or new_key(), errors=errors or {}, message=message,
                           chosen=application["choices"] if chosen is None else chosen,
                           kept=application["keep_with_applications"] if kept is None else kept, **facts), status


@blp.get("/demandes/<uuid:application_id>/choix")
@parent_only
def change_page(application_id):
    return choices_page(str(application_id))


# This route's own refusals (registrations writes its details in English; wording.py has the others).
REFUSALS = {
    "choices-fixed-first-come": "Dans une campagne « premier arrivé, premier servi », la place gardée a été décidée "
                                "par vos choix à l'arrivée : ils ne peuvent plus être modifiés.",
    "choices-fixed-decided": "Cette demande a déjà reçu une réponse : ses choix ne peuvent plus être modifiés.",
}
SIBLING_REFUSAL = "Cette demande ne peut pas être gardée avec celle de cet enfant."


def form_errors(error: ApiError) -> dict[str, str]:
    """choices.1 → the second select; keep_with_applications.0 → the siblings' group."""
    found = {}
    for name, message in error.field_errors.items():
        if name.startswith("keep_with_applications"):
            found.setdefault("keep_with", SIBLING_REFUSAL)
        elif name.startswith("choices."):
            found[f"choice_{int(name.split('.')[1]) + 1}"] = message
        else:
            found[name] = message
    return found


@blp.post("/demandes/<uuid:application_id>/choix")
@parent_only
def change(application_id):
    key = request.form.get("idempotency_key") or new_key()
    chosen = [request.form.get(f"choice_{n}", "") for n in range(1, 11)]
    body: dict[str, Any] = {"choices": [c for c in chosen if c]}
    kept = None
    if request.form.get("siblings_shown") == "oui":
        kept = body["keep_with_applications"] = request.form.getlist("keep_with")
    try:
        client("registrations").call("PUT", f"/applications/{application_id}/choices", body=body,
                                     headers={"Idempotency-Key": key})
    except ApiError as error:
        if error.status not in (404, 409, 422):
            raise
        # A refusal recorded nothing: the same key may be sent again (the service replays only successes).
        return choices_page(str(application_id), chosen=chosen, kept=kept, errors=form_errors(error), key=key,
                            message=REFUSALS.get(error.code, error.message), status=error.status)
    flash("Vos choix sont modifiés : votre demande garde sa place pour le tirage au sort.")
    return redirect(url_for("parents.applications"))
