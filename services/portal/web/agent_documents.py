"""A family's supporting documents at the counter (issue 16, item 4): an agent reads the family's documents and the
state of each fact (declared, or validated from which document and from when), opens one, and validates a fact
from it — the value the document shows, the date it takes effect and the motif the family reads. It also sends a
document the family brought to the counter, with a motif, under the family's own form's limits and refusals. Over
registrations' `/agent/families/{account}/documents` and `…/facts/{fact}/validation`.

The upload posts to one fixed path, `/accueil/justificatifs` (the family's account in the form): the edge lets a
document's 6 MB through on exact paths only (deploy/local/servers/nginx.py, the production Ingress)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from services.portal.client.api import ApiError
from services.portal.web.access import client, now, role_required
from services.portal.web.agents import REASON_REQUIRED, family_household, family_path, not_found
from services.portal.web.documents import (
    ALLOWANCE,
    DOCUMENT_MAX_BYTES,
    allow_document_bodies,
    children_names,
    document_file,
    document_rows,
    fact_and_child,
    fact_name,
    fact_options,
    fact_states,
    fact_value,
    read_upload_form,
    size_text,
    upload_errors,
)
from services.portal.wording import PROBLEMS
from shared.domain.paris import paris_day
from shared.errors import PayloadTooLarge
from shared.formatting import long_date

blp = Blueprint("agent_documents", __name__, url_prefix="/accueil")
agent_only = role_required("agent")

TRANCHES = range(1, 11)
# The validation's refusals, said for the counter whatever the API's wording (its field → the form's field).
VALIDATION_ERRORS = {
    "value": "Indiquez ce que le justificatif montre.",
    "effective_from": "Indiquez la date d'effet : au plus un an avant ou après aujourd'hui.",
    "child_id": "Cet enfant ne figure plus dans le foyer : rechargez la page.",
    "document_id": PROBLEMS["document-unknown"],
    "reason": REASON_REQUIRED,
}


def family_documents(account: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    household = family_household(account)
    return household, client("registrations").get(f"{family_path(account)}/documents").data


def read_or_not_found(account: str, read: Callable[[str], Any]) -> tuple[Any, Any]:
    """What `read` finds of the family, or the page saying no family has this account."""
    try:
        return read(account), None
    except ApiError as error:
        if error.status != 404:
            raise
        return None, not_found(error)


allow_document_bodies(blp, "agent_documents.upload")


def documents_page(account: str, *, choice: str = "", reason: str = "", errors: dict[str, str] | None = None,
                   status: int = 200):
    read, missing = read_or_not_found(account, family_documents)
    if missing:
        return missing
    household, found = read
    return render_template("agents/documents.html", account=account, household=household,
                           documents=document_rows(found, household), facts=fact_states(household),
                           options=fact_options(household), choice=choice, reason=reason, errors=errors or {},
                           max_megabytes=DOCUMENT_MAX_BYTES // (1024 * 1024), size_text=size_text), status


@blp.get("/familles/<account>/justificatifs")
@agent_only
def documents(account):
    return documents_page(account)


@blp.errorhandler(PayloadTooLarge)
@blp.errorhandler(RequestEntityTooLarge)
def too_large(_: Exception):
    """A body past the upload's limit, refused before the form was read: the family's account is in that form, so
    the refusal has a page of its own (nothing was stored)."""
    return render_template("error.html", status=413, message=PROBLEMS["document-too-large"]), 413


@blp.post("/justificatifs")
@agent_only
def upload():
    account = request.form.get("account", "")
    if not account:
        abort(400)
    reason = request.form.get("reason", "")
    form = read_upload_form(reason=(REASON_REQUIRED, not reason.strip()))
    if form.errors:
        return documents_page(account, choice=form.choice, reason=reason, errors=form.errors, status=form.status)
    fact, child_id = fact_and_child(form.choice)
    try:
        client("registrations").upload(f"{family_path(account)}/documents", form.content, {
            "fact": fact, "child_id": child_id, "reason": reason, "filename": form.filename})
    except ApiError as error:
        if error.status == 404 and error.code == "family-not-found":
            return not_found(error)
        if error.status == 404:  # no household declared yet: nothing a document could support
            flash(error.message)
            return redirect(url_for("agent_documents.documents", account=account))
        if error.status not in (413, 415, 422):
            raise
        return documents_page(account, choice=form.choice, reason=reason, errors=upload_refusal(error),
                              status=error.status)
    flash("Le justificatif est enregistré pour la famille ; elle le voit dans « Mes justificatifs ».")
    return redirect(url_for("agent_documents.documents", account=account))


def upload_refusal(error: ApiError) -> dict[str, str]:
    """The refusal next to the form's fields: a motif refused first, in the counter's words (the family's form has
    none); otherwise as the family's form says them."""
    if any("reason" in name for name in error.field_errors):
        return {"reason": REASON_REQUIRED}
    return upload_errors(error)


@blp.get("/familles/<account>/justificatifs/<uuid:document_id>/fichier")
@agent_only
def document_file_view(account, document_id):
    try:
        streamed = client("registrations").stream(f"{family_path(account)}/documents/{document_id}")
    except ApiError as error:
        if error.status != 404:
            raise
        if error.code == "family-not-found":
            return not_found(error)
        return render_template("error.html", status=404, message=PROBLEMS["document-not-found"]), 404
    return document_file(streamed, str(document_id))


# --- validating a fact from a document ----------------------------------------------------------------------------

def validation_page(account: str, document_id: str, choice: str | None, *, form: dict[str, str] | None = None,
                    errors: dict[str, str] | None = None, status: int = 200):
    read, missing = read_or_not_found(account, family_documents)
    if missing:
        return missing
    household, found = read
    document = next((d for d in document_rows(found, household) if d["document_id"] == document_id), None)
    if document is None or household is None:
        return render_template("error.html", status=404, message=PROBLEMS["document-not-found"]), 404
    options = fact_options(household)
    if choice not in dict(options):  # by default, the fact the document was sent for
        sent_for = f"{ALLOWANCE}:{document['child_id']}" if document.get("child_id") else document["fact"]
        choice = sent_for if sent_for in dict(options) else options[0][0]
    fact, child_id = fact_and_child(choice)
    state = next((s for s in fact_states(household) if (s["fact"], s.get("child_id")) == (fact, child_id)), {})
    shown = form or {"value": _form_value(state.get("value")), "effective_from": paris_day(now()).isoformat()}
    return render_template("agents/validation.html", account=account, document=document, options=options,
                           choice=choice, fact=fact, child_id=child_id, state=state, form=shown,
                           reason=(form or {}).get("reason", ""), errors=errors or {}, tranches=TRANCHES,
                           size_text=size_text), status


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    return "" if value is None else str(value)


def _api_value(fact: str, typed: str) -> int | bool | None:
    if fact == "quotient_tranche":
        return int(typed) if typed.isdigit() else None
    return {"oui": True, "non": False}.get(typed)


@blp.get("/familles/<account>/justificatifs/<uuid:document_id>/validation")
@agent_only
def validation(account, document_id):
    return validation_page(account, str(document_id), request.args.get("fait"))


@blp.post("/familles/<account>/justificatifs/<uuid:document_id>/validation")
@agent_only
def validate(account, document_id):
    choice = request.form.get("fact", "")
    fact, child_id = fact_and_child(choice)
    if not fact:
        abort(400)
    form = {name: request.form.get(name, "").strip() for name in ("value", "effective_from")}
    form["reason"] = request.form.get("reason", "")
    body = {"value": _api_value(fact, form["value"]), "effective_from": form["effective_from"] or None,
            "document_id": str(document_id), "reason": form["reason"]}
    if child_id:
        body["child_id"] = child_id
    try:
        state = client("registrations").post(f"{family_path(account)}/facts/{fact}/validation", body).data
    except ApiError as error:
        if error.status == 404 and error.code == "family-not-found":
            return not_found(error)
        if error.status != 422:
            raise
        errors = {name: VALIDATION_ERRORS.get(name, message) for name, message in error.field_errors.items()}
        return validation_page(account, str(document_id), choice, form=form, errors=errors, status=422)
    names = children_names(family_household(account))
    flash(f"{fact_name(fact, child_id, names)} : {fact_value(state)}, validé pour la famille, à compter du "
          f"{long_date(date.fromisoformat(state['effective_from']), 'fr')}.")
    return redirect(url_for("agent_documents.documents", account=account))
