"""City agents' pages (issue 16, item 1): at the counter or on the 3975 line, an agent finds a family (by its
account, its email, or a child's name and birth date), reads its household and applications, and acts for it —
accepts or declines an offered place, withdraws an application, applies for one of its children, corrects the
household — each time with a motif the family reads in its history. Over registrations' agents' API
(`/agent/families/…`). An application goes through the family's rules, the campaign's waiting room included: the
agent takes the family's place in it and applies once the family's turn has come."""
from __future__ import annotations

import functools
from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from services.portal.client.api import ApiError
from services.portal.web.access import client, role_required
from services.portal.web.parents import (
    ADDRESS_ERRORS,
    campaign_names,
    can_answer,
    household_form,
    listing,
    new_key,
)
from services.portal.web.places import can_withdraw, offer_of, public_campaign

blp = Blueprint("agents", __name__, url_prefix="/accueil")
agent_only = role_required("agent")

SEARCH_FIELDS = ("account", "email", "child_name", "birth_date")
# The API words its refusals of a search for programs; at the counter each field says what to type.
SEARCH_ERRORS = {
    "account": "Indiquez le compte de la famille, son adresse électronique, ou le nom et la date de naissance "
               "d'un enfant.",
    "email": "Indiquez une adresse électronique complète (nom@domaine.fr).",
    "child_name": "Indiquez aussi le prénom, le nom, ou les deux, de l'enfant.",
    "birth_date": "Indiquez aussi la date de naissance de l'enfant.",
}
REASON_REQUIRED = "Indiquez le motif, que la famille lira : de 3 à 500 caractères."
# The form's action → the API's verb and what the agent is told once it is done.
ACTIONS = {
    "accepter": ("accept", "La place est acceptée pour la famille : l'inscription est confirmée."),
    "refuser": ("decline", "La place est refusée pour la famille : elle passe à l'enfant suivant."),
    "retirer": ("withdraw", "La demande de la famille est retirée."),
}


def family_path(account: str) -> str:
    return f"/agent/families/{quote(account, safe='')}"


FAMILY_NOT_FOUND = "Aucune famille n'a ce compte ici (ni foyer déclaré, ni demande)."


def not_found(error: ApiError):
    message = FAMILY_NOT_FOUND if error.code == "family-not-found" else error.message
    return render_template("error.html", status=404, message=message), 404


def with_reason_error(field_errors: dict[str, str]) -> dict[str, str]:
    """The API's 422 on the motif, next to its field, said in French."""
    return {name: (REASON_REQUIRED if name == "reason" else message) for name, message in field_errors.items()}


def family_household(account: str) -> dict[str, Any] | None:
    """The family's household with its ETag; None when it has applications but no household yet."""
    try:
        answer = client("registrations").get(f"{family_path(account)}/household")
    except ApiError as error:
        if error.code == "household-not-found":
            return None
        raise
    return {**answer.data, "etag": answer.headers.get("ETag", "")}


def children_of(household: dict[str, Any] | None) -> dict[str, str]:
    return {c["child_id"]: f"{c['first_name']} {c['last_name']}" for c in (household or {}).get("children", ())}


# --- finding a family ---------------------------------------------------------------------------------------

@blp.get("")
@agent_only
def search():
    query = {name: request.args.get(name, "").strip() for name in SEARCH_FIELDS}
    asked = {name: value for name, value in query.items() if value}
    families, errors = None, {}
    if asked:
        try:
            families = client("registrations").get("/agent/families", asked).data
        except ApiError as error:
            if error.status != 422:
                raise
            # The API names a query's fields `query.<name>`.
            errors = {name: SEARCH_ERRORS.get(name, message) for name, message in
                      ((path.removeprefix("query."), message) for path, message in error.field_errors.items())}
    return render_template("agents/search.html", query=query, families=families, errors=errors), (
        422 if errors else 200)


# --- a family: its household and applications ---------------------------------------------------------------

@blp.get("/familles/<account>")
@agent_only
def family(account):
    try:
        household = family_household(account)
        applications = client("registrations").get(f"{family_path(account)}/applications").data
    except ApiError as error:
        if error.status != 404:
            raise
        return not_found(error)
    return render_template("agents/family.html", account=account, household=household,
                           applications=applications, children=children_of(household),
                           names=campaign_names(a["campaign_id"] for a in applications))


def application_page(account: str, application_id: str, *, action: str | None = None, reason: str = "",
                     errors: dict[str, str] | None = None, key: str | None = None, status: int = 200):
    try:
        application = client("registrations").get(f"{family_path(account)}/applications/{application_id}").data
        household = family_household(account)
    except ApiError as error:
        if error.status != 404:
            raise
        return not_found(error)
    campaign = public_campaign(application["campaign_id"]) or {}
    offer = offer_of(campaign, application.get("placed_offer_id"))
    possible = [*(("accepter", "refuser") if can_answer(application) else ()),
                *(("retirer",) if can_withdraw(application, offer) else ())]
    return render_template(
        "agents/application.html", account=account, a=application, campaign=campaign, offer=offer,
        child=children_of(household).get(application["child_id"], "l'enfant"), possible=possible,
        action=action if action in possible else (possible[0] if len(possible) == 1 else None), reason=reason,
        errors=errors or {}, key=key or new_key()), status


@blp.get("/familles/<account>/demandes/<uuid:application_id>")
@agent_only
def application(account, application_id):
    return application_page(account, str(application_id))


@blp.post("/familles/<account>/demandes/<uuid:application_id>")
@agent_only
def act(account, application_id):
    action, reason = request.form.get("action", ""), request.form.get("reason", "")
    key = request.form.get("idempotency_key") or new_key()
    if action not in ACTIONS:
        return application_page(account, str(application_id), reason=reason, key=key, status=422,
                                errors={"action": "Choisissez ce que vous faites pour la famille."})
    verb, done = ACTIONS[action]
    try:
        # One key per action of the rendered form: after a refusal the agent may pick another action.
        client("registrations").post(f"{family_path(account)}/applications/{application_id}/{verb}",
                                     {"reason": reason}, headers={"Idempotency-Key": f"{key}-{verb}"})
    except ApiError as error:
        if error.status == 422:
            return application_page(account, str(application_id), action=action, reason=reason, key=key,
                                    errors=with_reason_error(error.field_errors), status=422)
        if error.status not in (404, 409):
            raise
        flash(error.message)
        return application_page(account, str(application_id), action=action, reason=reason, key=key,
                                status=error.status)
    flash(done)
    return redirect(url_for("agents.family", account=account))


# --- correcting the household ---------------------------------------------------------------------------------

def household_page(account: str, household: dict[str, Any] | None, *, facts=None, reason: str = "",
                   errors=None, status: int = 200):
    return render_template("agents/household.html", account=account, household=household,
                           facts=facts or household or {"language": "fr"}, reason=reason,
                           errors=errors or {}), status


@blp.get("/familles/<account>/foyer")
@agent_only
def household(account):
    try:
        found = family_household(account)
    except ApiError as error:
        if error.status != 404:
            raise
        return not_found(error)
    return household_page(account, found)


@blp.post("/familles/<account>/foyer")
@agent_only
def correct_household(account):
    facts, reason = household_form(request.form), request.form.get("reason", "")
    try:
        client("registrations").call("PUT", f"{family_path(account)}/household", body={**facts, "reason": reason},
                                     headers={"If-Match": request.form.get("etag") or "*"})
    except ApiError as error:
        if error.status == 404:
            return not_found(error)
        if error.status not in (412, 422):
            raise
        flash(error.message)
        errors = with_reason_error({ADDRESS_ERRORS.get(name, name): message
                                    for name, message in error.field_errors.items()})
        return household_page(account, family_household(account), facts=facts, reason=reason, errors=errors,
                              status=error.status)
    flash("Le foyer de la famille est corrigé.")
    return redirect(url_for("agents.family", account=account))


# --- applying for one of the family's children -----------------------------------------------------------------

ADMISSION_REFUSALS = frozenset({"admission-token-missing", "admission-token-invalid", "admission-token-expired",
                                "admission-token-foreign"})
MAX_CHOICES = 10


def open_campaigns(child: dict[str, Any]) -> list[dict[str, Any]]:
    """The campaigns open now to the child's age, as the family's own list shows them."""
    return [c for c in listing(child["birth_date"]) if c["is_open"]]


def apply_page(account: str, child_id: str, campaign_id: str | None, *, chosen=(), sworn: bool = False,
               reason: str = "", errors=None, key: str | None = None, message: str | None = None, status: int = 200):
    try:
        household = family_household(account)
    except ApiError as error:
        if error.status != 404:
            raise
        return not_found(error)
    child = next((c for c in (household or {}).get("children", ()) if c["child_id"] == child_id), None)
    if child is None:
        abort(404)
    campaigns = open_campaigns(child)
    campaign = next((c for c in campaigns if c["id"] == campaign_id), None)
    if campaign_id and campaign is None:
        message = message or "Cette campagne n'est pas ouverte à l'âge de cet enfant en ce moment."
        status = 404 if status == 200 else status
    return render_template("agents/apply.html", account=account, child=child, campaigns=campaigns,
                           child_name=f"{child['first_name']} {child['last_name']}",
                           campaign=campaign, chosen=list(chosen), sworn=sworn, reason=reason, errors=errors or {},
                           key=key or new_key(), message=message), status


@blp.get("/familles/<account>/enfants/<uuid:child_id>/demande")
@agent_only
def apply(account, child_id):
    return apply_page(account, str(child_id), request.args.get("campagne") or None)


def room_admission(account: str, campaign_id: str) -> tuple[dict[str, str], str | None]:
    """Take the family's place in the campaign's waiting room (the same place its own tabs get): its admission
    token once its turn has come, else what to tell the agent."""
    place = client("registrations").call("PUT", f"{family_path(account)}/waiting-rooms/{campaign_id}/place").data
    if place.get("admission_token"):
        return {"Admission-Token": place["admission_token"]}, None
    ahead = place.get("ahead")
    wait = place.get("estimated_wait_seconds")
    return {}, ("La salle d'attente de cette campagne est ouverte : la famille y a sa place, comme si elle s'était "
                "connectée elle-même" + (f", {ahead} famille{'s' if ahead > 1 else ''} avant elle" if ahead else "")
                + (f", environ {max(1, round(wait / 60))} min d'attente" if wait else "")
                + ". Renvoyez ce formulaire quand son tour sera venu : il n'y aura pas de doublon.")


@blp.post("/familles/<account>/enfants/<uuid:child_id>/demande")
@agent_only
def submit(account, child_id):
    child_id = str(child_id)
    campaign_id = request.form.get("campaign_id", "")
    key = request.form.get("idempotency_key") or new_key()
    chosen = [request.form.get(f"choice_{n}", "") for n in range(1, MAX_CHOICES + 1)]
    sworn, reason = request.form.get("sworn_statement") == "oui", request.form.get("reason", "")
    body = {"campaign_id": campaign_id, "child_id": child_id, "choices": [c for c in chosen if c],
            "sworn_statement": sworn, "reason": reason}
    again = functools.partial(apply_page, account, child_id, campaign_id, chosen=chosen, sworn=sworn, reason=reason,
                              key=key)
    path, admission = f"{family_path(account)}/applications", {}
    try:
        for _ in range(2):  # the second time with the family's admission token, when its turn in the room came
            try:
                ack = client("registrations").post(path, body, headers={"Idempotency-Key": key, **admission}).data
                break
            except ApiError as error:
                if error.code not in ADMISSION_REFUSALS or admission:
                    raise
                admission, waiting = room_admission(account, campaign_id)
                if waiting:
                    return again(message=waiting, status=409)
    except ApiError as error:
        if error.status == 404 and error.code == "family-not-found":
            return not_found(error)
        if error.status >= 500 and error.status != 503:
            raise
        errors = {(f"choice_{int(f.split('.')[1]) + 1}" if f.startswith("choices.") else f): m
                  for f, m in with_reason_error(error.field_errors).items()}
        return again(errors=errors, message=error.message, status=error.status)
    flash(f"La demande est envoyée pour la famille. {ack['message']} Elle apparaît dans la liste des demandes dans "
          "quelques secondes.")
    return redirect(url_for("agents.family", account=account))
