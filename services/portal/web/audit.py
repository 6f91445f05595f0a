"""Audit trails in the portal (issue 16, item 3): an agent reads what was done for a family (registrations'
`/agent/families/{account}/audit`), a manager what was done to a campaign (campaigns' `/campaigns/{id}/audit`):
who, on whose behalf, what, the fields before → after, in chain order; filtered by time (Paris time in the form)
and by actor, and exported as CSV with the same filters (docs/portal.md#audit-trails)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request, url_for

from services.portal.client.api import ApiError
from services.portal.web.access import client, now, role_required
from shared.domain.paris import PARIS, paris_day

blp = Blueprint("audit", __name__)
agent_only = role_required("agent")
manager_only = role_required("manager")

# The form's fields (French, in the page's address) → the APIs' filters.
FILTERS = {"depuis": "since", "jusqu_au": "until", "acteur": "actor"}
FILTER_ERRORS = {
    "depuis": "Indiquez une date et une heure complètes.",
    "jusqu_au": "Indiquez une date et une heure complètes, après « depuis ».",
    "acteur": "Indiquez l'identifiant de la personne (son compte), ou system:… pour un traitement automatique.",
}
ROLES = {"agent": "agent de la Ville", "manager": "gestionnaire", "parent": "la famille",
         "system": "Guichet (traitement automatique)", "service": "un service de Guichet"}


def api_filters(args) -> tuple[dict[str, str], dict[str, str]]:
    """The API's query from the form's fields (a local Paris time becomes an instant with its offset), and the
    fields the form could not read."""
    query, errors = {}, {}
    for field, name in FILTERS.items():
        value = args.get(field, "").strip()
        if not value:
            continue
        if name == "actor":
            query[name] = value
            continue
        try:
            query[name] = datetime.fromisoformat(value).replace(tzinfo=PARIS).isoformat()
        except ValueError:
            errors[field] = FILTER_ERRORS[field]
    return query, errors


def trail_page(service: str, path: str, template_args: dict[str, Any], csv_url: Callable[..., str]):
    form = {field: request.args.get(field, "").strip() for field in FILTERS}
    query, errors = api_filters(request.args)
    entries = None
    if not errors:
        try:
            entries = client(service).get(path, query).data
        except ApiError as error:
            if error.status == 404:
                return render_template("error.html", status=404, message=template_args["not_found"]), 404
            if error.status != 422:
                raise
            # The API names a query's fields `query.<name>` (`until` before `since`: on `until`).
            named = {name: field for field, name in FILTERS.items()}
            for wrong in error.field_errors:
                field = named.get(wrong.removeprefix("query."), "depuis")
                errors[field] = FILTER_ERRORS[field]
    return render_template("audit/trail.html", form=form, errors=errors, entries=entries, roles=ROLES,
                           csv_url=csv_url(**{k: v for k, v in form.items() if v}), **template_args), (
        422 if errors else 200)


def trail_csv(service: str, path: str, filename: str) -> Response:
    query, errors = api_filters(request.args)
    if errors:
        return Response("\n".join(errors.values()), status=422, mimetype="text/plain")
    answer = client(service).get(path, {**query, "format": "csv"}, headers={"Accept": "text/csv"})
    return Response(answer.body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}-{paris_day(now()).isoformat()}.csv"'})


def family_audit_path(account: str) -> str:
    return f"/agent/families/{quote(account, safe='')}/audit"


@blp.get("/accueil/familles/<account>/journal")
@agent_only
def family_trail(account):
    return trail_page("registrations", family_audit_path(account), {
        "title": f"Journal des actions pour la famille {account}",
        "intro": "Ce que les agents de la Ville ont fait pour cette famille, dans l'ordre, avec leurs motifs.",
        "back": (url_for("agents.family", account=account), f"Retour à la famille {account}"),
        "not_found": "Aucune famille n'a ce compte ici (ni foyer déclaré, ni demande).",
        "action_url": url_for("audit.family_trail", account=account)},
        lambda **filters: url_for("audit.family_trail_csv", account=account, **filters))


@blp.get("/accueil/familles/<account>/journal.csv")
@agent_only
def family_trail_csv(account):
    return trail_csv("registrations", family_audit_path(account), "journal-famille")


@blp.get("/gestion/campagnes/<uuid:campaign_id>/journal")
@manager_only
def campaign_trail(campaign_id):
    return trail_page("campaigns", f"/campaigns/{campaign_id}/audit", {
        "title": "Journal des modifications de la campagne",
        "intro": "Qui a modifié la campagne, ses offres et ses règles, ou lancé et publié son attribution, dans "
                 "l'ordre : chaque champ avant → après.",
        "back": (url_for("managers.campaign", campaign_id=campaign_id), "Retour à la campagne"),
        "not_found": "Cette campagne n'existe pas.",
        "action_url": url_for("audit.campaign_trail", campaign_id=campaign_id)},
        lambda **filters: url_for("audit.campaign_trail_csv", campaign_id=campaign_id, **filters))


@blp.get("/gestion/campagnes/<uuid:campaign_id>/journal.csv")
@manager_only
def campaign_trail_csv(campaign_id):
    return trail_csv("campaigns", f"/campaigns/{campaign_id}/audit", f"journal-campagne-{campaign_id}")
