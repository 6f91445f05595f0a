"""A family's children at the counter (issue 16, item 1): an agent adds a child to the family's household, corrects
one, or removes one, each with a motif the family reads in its history (« fait par un agent, le …, motif : … »).
The family's own rules hold (names, birth date, the number of children, no duplicate). Over registrations'
`/agent/families/{account}/household/children…`."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.portal.client.api import ApiError
from services.portal.web.access import client, role_required
from services.portal.web.agent_documents import read_or_not_found
from services.portal.web.agents import family_household, family_path, not_found, with_reason_error
from services.portal.web.parents import child_form, new_key

blp = Blueprint("agent_children", __name__, url_prefix="/accueil")
agent_only = role_required("agent")

def child_of(household: dict[str, Any] | None, child_id: str) -> dict[str, Any] | None:
    return next((c for c in (household or {}).get("children", ()) if c["child_id"] == child_id), None)


def as_form(child: dict[str, Any]) -> dict[str, Any]:
    return {**child, "disability_allowance": "oui" if child.get("disability_allowance") else ""}


def child_page(account: str, household: dict[str, Any] | None, child_id: str | None, *, form=None, reason: str = "",
               errors=None, key: str | None = None, message: str | None = None, status: int = 200):
    current = child_of(household, child_id) if child_id else None
    if child_id and current is None:
        return render_template("error.html", status=404, message="Cet enfant ne figure pas (ou plus) dans le "
                                                                 "foyer de la famille."), 404
    return render_template("agents/child.html", account=account, household=household, child_id=child_id,
                           current=current, name=f"{current['first_name']} {current['last_name']}" if current else "", form=form or (as_form(current) if current else {}), reason=reason,
                           errors=errors or {}, key=key or new_key(), message=message), status


def refused(account: str, child_id: str | None, error: ApiError, *, form, reason: str, key: str | None = None):
    """The API's refusal on the page: fields next to their input, the rest (a duplicate, a change meanwhile) said
    above the form; nothing changed."""
    if error.status == 404 and error.code == "family-not-found":
        return not_found(error)
    if error.status not in (404, 409, 412, 422):
        raise error
    errors = with_reason_error(error.field_errors)
    return child_page(account, family_household(account), child_id, form=form, reason=reason, errors=errors, key=key,
                      message=None if error.status == 422 and errors else error.message, status=error.status)


def known_household(account: str):
    return read_or_not_found(account, family_household)


@blp.get("/familles/<account>/enfants/nouveau")
@agent_only
def new_child(account):
    household, missing = known_household(account)
    return missing or child_page(account, household, None)


@blp.post("/familles/<account>/enfants/nouveau")
@agent_only
def add_child(account):
    form, reason = child_form(request.form), request.form.get("reason", "")
    key = request.form.get("idempotency_key") or new_key()
    shown = {**form, "disability_allowance": request.form.get("disability_allowance", "")}
    try:
        client("registrations").post(f"{family_path(account)}/household/children", {**form, "reason": reason},
                                     headers={"Idempotency-Key": key})
    except ApiError as error:
        return refused(account, None, error, form=shown, reason=reason, key=key)
    flash(f"{form['first_name']} {form['last_name']} est ajouté(e) au foyer de la famille.")
    return redirect(url_for("agents.family", account=account))


@blp.get("/familles/<account>/enfants/<uuid:child_id>/modifier")
@agent_only
def change_page(account, child_id):
    household, missing = known_household(account)
    return missing or child_page(account, household, str(child_id))


@blp.post("/familles/<account>/enfants/<uuid:child_id>/modifier")
@agent_only
def change_child(account, child_id):
    form, reason = child_form(request.form), request.form.get("reason", "")
    shown = {**form, "disability_allowance": request.form.get("disability_allowance", "")}
    current = child_of(family_household(account), str(child_id)) or {}
    # The API sets the child whole: what this form does not show is sent back as it stands.
    body = {**form, "school_arrondissement": current.get("school_arrondissement"), "reason": reason}
    try:
        client("registrations").call("PUT", f"{family_path(account)}/household/children/{child_id}", body=body,
                                     headers={"If-Match": request.form.get("etag") or "*"})
    except ApiError as error:
        return refused(account, str(child_id), error, form=shown, reason=reason)
    flash(f"{form['first_name']} {form['last_name']} : la fiche de l'enfant est corrigée.")
    return redirect(url_for("agents.family", account=account))


@blp.get("/familles/<account>/enfants/<uuid:child_id>/retrait")
@agent_only
def removal_page(account, child_id, *, reason: str = "", errors=None, key: str | None = None, status: int = 200):
    household, missing = known_household(account)
    if missing:
        return missing
    child = child_of(household, str(child_id))
    if child is None:
        return render_template("error.html", status=404, message="Cet enfant ne figure pas (ou plus) dans le "
                                                                 "foyer de la famille."), 404
    return render_template("agents/child_removal.html", account=account, child=child, reason=reason,
                           errors=errors or {}, key=key or new_key()), status


@blp.post("/familles/<account>/enfants/<uuid:child_id>/retrait")
@agent_only
def remove_child(account, child_id):
    reason, key = request.form.get("reason", ""), request.form.get("idempotency_key") or new_key()
    child = child_of(family_household(account), str(child_id))
    try:
        client("registrations").post(f"{family_path(account)}/household/children/{child_id}/removal",
                                     {"reason": reason}, headers={"Idempotency-Key": key})
    except ApiError as error:
        if error.status == 404 and error.code == "family-not-found":
            return not_found(error)
        if error.status != 422:
            raise
        return removal_page(account, child_id, reason=reason, errors=with_reason_error(error.field_errors), key=key,
                            status=422)
    name = f"{child['first_name']} {child['last_name']}" if child else "L'enfant"
    flash(f"{name} est retiré(e) du foyer de la famille.")
    return redirect(url_for("agents.family", account=account))
