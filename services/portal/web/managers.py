"""Campaign managers' pages: create and edit a campaign (window, offers, criteria, reserved shares, tariff grid),
publish it, extend or close its window, clone it, watch the window's live counters, dry-run the allocation,
publish the results (under four eyes: one manager asks, another approves), export the CSV; the notifications
given up on, retried from their page."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for

from services.portal.client.api import ApiError
from services.portal.web.access import client, now, role_required
from services.portal.web.campaign_form import (
    CRITERIA_ORDER,
    TRANCHES,
    FormErrors,
    api_errors_to_form,
    campaign_fields,
    campaign_to_form,
    kept_policy,
    offer_fields,
    offer_to_form,
)
from services.portal.wording import CRITERIA, KINDS, MODES, PUBLICATION_REFUSALS, RESERVED_SHARE_LABELS
from shared.domain.paris import PARIS, paris_day

blp = Blueprint("managers", __name__, url_prefix="/gestion")
manager_only = role_required("manager")


def choices() -> dict[str, Any]:
    return {"kinds": KINDS, "modes": MODES, "criteria": [(n, CRITERIA[n]) for n in CRITERIA_ORDER],
            "reserved_labels": [(n, RESERVED_SHARE_LABELS[n]) for n in CRITERIA_ORDER], "tranches": TRANCHES}


def read_campaign(campaign_id) -> tuple[dict[str, Any], str]:
    answer = client("campaigns").get(f"/campaigns/{campaign_id}")
    return answer.data, answer.headers.get("ETag", "")


@blp.get("")
@manager_only
def campaigns():
    return render_template("managers/campaigns.html", campaigns=client("campaigns").get("/campaigns").data)


def default_form() -> dict[str, Any]:
    opening = (now().astimezone(PARIS) + timedelta(days=7)).replace(hour=0, minute=1, second=0, microsecond=0)
    return {"kind": "sport_vacances", "mode": "lottery", "max_choices": 3, "acceptance_delay_hours": 72,
            "lottery_weight": 0, "opens_at": f"{opening:%Y-%m-%dT%H:%M:%S}",
            "closes_at": f"{opening + timedelta(days=7):%Y-%m-%dT%H:%M:%S}",
            "reference_date": (opening + timedelta(days=21)).date().isoformat(),
            "offer_min_age": 7, "offer_max_age": 17, "offer_capacity": 16, "offer_arrondissement": 1,
            "offer_starts_on": (opening + timedelta(days=21)).date().isoformat(),
            "offer_ends_on": (opening + timedelta(days=25)).date().isoformat(),
            **{f"offer_tariff_{t}": f"{4 + t},00" for t in TRANCHES}}


@blp.get("/campagnes/nouvelle")
@manager_only
def new_campaign():
    return render_template("managers/new.html", form=default_form(), errors={}, key=uuid.uuid4().hex, **choices())


@blp.post("/campagnes/nouvelle")
@manager_only
def create_campaign():
    errors: dict[str, str] = {}
    body = {**campaign_fields(request.form, errors), "offers": [offer_fields(request.form, errors)]}
    key = request.form.get("idempotency_key") or uuid.uuid4().hex
    try:
        if errors:
            raise FormErrors(errors)
        created = client("campaigns").post("/campaigns", body, headers={"Idempotency-Key": key}).data
    except (ApiError, FormErrors) as error:
        if isinstance(error, ApiError) and error.status not in (400, 409, 422):
            raise
        fields = error.errors if isinstance(error, FormErrors) else api_errors_to_form(error.field_errors)
        flash(error.message if isinstance(error, ApiError) else "Certains champs sont à corriger.")
        return render_template("managers/new.html", form=request.form, errors=fields, key=key, **choices()), 422
    flash("Campagne créée en brouillon : vérifiez-la puis publiez-la.")
    return redirect(url_for("managers.campaign", campaign_id=created["id"]))


def allocation_overview(campaign_id) -> dict[str, Any] | None:
    try:
        return client("allocation").get(f"/campaigns/{campaign_id}/allocation").data
    except ApiError as error:
        if error.status == 404:  # allocation learns of a campaign when it is published
            return None
        raise


def counters(campaign: dict[str, Any]) -> dict[str, Any] | None:
    if campaign["status"] in ("draft", "scheduled"):
        return None
    found = client("registrations").get(f"/applications/counters/{campaign['id']}").data
    found["per_minute"] = found["per_minute"][-10:]
    found["room"] = waiting_room_live(campaign)
    return found


def waiting_room_live(campaign: dict[str, Any]) -> dict[str, Any] | None:
    """The room as it stands (waiting, admitted in the last minute, the pace, the oldest wait), refreshed with
    the counters; None for a campaign without a room."""
    has_room = campaign.get("waiting_room")
    if has_room is None:  # the campaign's default: a room for first-come campaigns only
        has_room = campaign["policy"]["mode"] == "fcfs"
    if not has_room:
        return None
    try:
        return client("registrations").get(f"/waiting-rooms/{campaign['id']}/live").data
    except ApiError as error:
        if error.status != 404:
            raise
        return None


def campaign_page(campaign_id, *, status: int = 200, edit_form=None, offer_forms=None, new_offer_form=None,
                  errors=None, offer_errors=None, new_offer_errors=None):
    campaign, etag = read_campaign(campaign_id)
    offer_forms = offer_forms or {}
    return render_template(
        "managers/campaign.html", campaign=campaign, etag=etag, counters=counters(campaign),
        allocation=allocation_overview(campaign_id) if campaign["status"] != "draft" else None,
        offer_titles={o["id"]: o["title"] for o in campaign["offers"]},
        form=edit_form or campaign_to_form(campaign), errors=errors or {},
        offer_forms={o["id"]: offer_forms.get(o["id"]) or offer_to_form(o) for o in campaign["offers"]},
        offer_errors=offer_errors or {}, new_offer_form=new_offer_form or {}, new_offer_errors=new_offer_errors or {},
        key=uuid.uuid4().hex, now=now(), subject=session.get("subject"), **choices()), status


@blp.get("/campagnes/<uuid:campaign_id>")
@manager_only
def campaign(campaign_id):
    return campaign_page(campaign_id)


@blp.get("/campagnes/<uuid:campaign_id>/compteurs")
@manager_only
def live_counters(campaign_id):
    """The counters alone, for the page's script to refresh them in place."""
    campaign, _ = read_campaign(campaign_id)
    return render_template("managers/_counters.html", counters=counters(campaign), campaign=campaign,
                           offer_titles={o["id"]: o["title"] for o in campaign["offers"]})


def write(campaign_id, method: str, path: str, body: Any = None) -> ApiError | None:
    """A change under the ETag read with the page: a concurrent change answers 412, shown as such."""
    try:
        client("campaigns").call(method, f"/campaigns/{campaign_id}{path}", body=body,
                                 headers={"If-Match": request.form.get("etag", "")})
    except ApiError as error:
        if error.status not in (400, 409, 412, 422, 428):
            raise
        flash(error.message)
        return error
    return None


@blp.post("/campagnes/<uuid:campaign_id>/modifier")
@manager_only
def edit_campaign(campaign_id):
    errors: dict[str, str] = {}
    body = campaign_fields(request.form, errors)
    if errors:
        flash("Certains champs sont à corriger.")
        return campaign_page(campaign_id, status=422, edit_form=request.form, errors=errors)
    current, _ = read_campaign(campaign_id)
    body["policy"] = kept_policy(current["policy"], body["policy"])
    failed = write(campaign_id, "PATCH", "", body)
    if failed:
        return campaign_page(campaign_id, status=failed.status, edit_form=request.form,
                             errors=api_errors_to_form(failed.field_errors))
    flash("Campagne enregistrée.")
    return redirect(url_for("managers.campaign", campaign_id=campaign_id))


@blp.post("/campagnes/<uuid:campaign_id>/offres")
@blp.post("/campagnes/<uuid:campaign_id>/offres/<uuid:offer_id>")
@manager_only
def save_offer(campaign_id, offer_id=None):
    errors: dict[str, str] = {}
    body = offer_fields(request.form, errors)
    failed = None
    if not errors:
        failed = write(campaign_id, "PATCH" if offer_id else "POST", f"/offers/{offer_id}" if offer_id else "/offers",
                       body)
        errors = api_errors_to_form(failed.field_errors, offer_form=True) if failed else {}
    else:
        flash("Certains champs de l'activité sont à corriger.")
    if errors or failed:
        status = failed.status if failed else 422
        if offer_id:
            return campaign_page(campaign_id, status=status, offer_forms={str(offer_id): request.form},
                                 offer_errors={str(offer_id): errors})
        return campaign_page(campaign_id, status=status, new_offer_form=request.form, new_offer_errors=errors)
    flash("Activité enregistrée.")
    return redirect(url_for("managers.campaign", campaign_id=campaign_id))


@blp.post("/campagnes/<uuid:campaign_id>/<any(publier, clore):action>")
@manager_only
def window_action(campaign_id, action):
    failed = write(campaign_id, "POST", "/publish" if action == "publier" else "/close-early")
    if not failed:
        flash("Campagne publiée : les familles la voient et l'ouverture sera annoncée." if action == "publier"
              else "Inscriptions closes.")
    return redirect(url_for("managers.campaign", campaign_id=campaign_id))


@blp.post("/campagnes/<uuid:campaign_id>/prolonger")
@manager_only
def extend_close(campaign_id):
    closes_at = request.form.get("new_closes_at", "").strip()
    if not closes_at:
        flash("Indiquez la nouvelle date de clôture.")
        return campaign_page(campaign_id, status=422, errors={"new_closes_at": "Ce champ est obligatoire."})
    failed = write(campaign_id, "POST", "/extend-close", {"closes_at": closes_at})
    if failed:
        errors = api_errors_to_form(failed.field_errors)
        return campaign_page(campaign_id, status=failed.status,
                             errors={"new_closes_at": errors.pop("closes_at", failed.message), **errors})
    flash("Clôture repoussée : les familles voient la nouvelle date.")
    return redirect(url_for("managers.campaign", campaign_id=campaign_id))


@blp.post("/campagnes/<uuid:campaign_id>/copier")
@manager_only
def clone_campaign(campaign_id):
    errors: dict[str, str] = {}
    body: dict[str, Any] = {}
    title = request.form.get("clone_title", "").strip()
    if title:
        body["title"] = title
    opens_at = request.form.get("clone_opens_at", "").strip()
    if opens_at:
        body["new_opens_at"] = opens_at
    else:
        body["shift_days"] = _integer_or_error(request.form.get("clone_shift_days", ""), "clone_shift_days", errors)
    key = request.form.get("idempotency_key") or uuid.uuid4().hex
    if not errors:
        try:
            copy = client("campaigns").post(f"/campaigns/{campaign_id}/clone", body,
                                            headers={"Idempotency-Key": key}).data
        except ApiError as error:
            if error.status not in (400, 404, 409, 422):
                raise
            flash(error.message)
            found = api_errors_to_form(error.field_errors)
            errors = {"clone_" + {"new_opens_at": "opens_at"}.get(k, k): v for k, v in found.items()} or {
                "clone_shift_days": error.message}
        else:
            flash("Copie créée en brouillon : vérifiez ses dates puis publiez-la.")
            return redirect(url_for("managers.campaign", campaign_id=copy["id"]))
    else:
        flash("Certains champs de la copie sont à corriger.")
    return campaign_page(campaign_id, status=422, errors=errors)


def _integer_or_error(raw: str, name: str, errors: dict[str, str]) -> int | None:
    try:
        return int(raw.strip())
    except ValueError:
        errors[name] = "Indiquez un nombre entier de jours."
        return None


@blp.get("/envois-en-echec")
@manager_only
def failed_deliveries():
    return render_template("managers/failures.html", failures=client("notifications").get("/notifications/failures").data)


@blp.post("/envois-en-echec/<uuid:notification_id>/relancer")
@manager_only
def retry_delivery(notification_id):
    try:
        client("notifications").post(f"/notifications/failures/{notification_id}/retry")
    except ApiError as error:
        if error.status != 404:
            raise
        flash("Cet envoi n'est plus en échec : il a peut-être déjà été relancé.")
    else:
        flash("Envoi relancé : une nouvelle série de tentatives commence.")
    return redirect(url_for("managers.failed_deliveries"))


@blp.post("/campagnes/<uuid:campaign_id>/simulation")
@manager_only
def dry_run(campaign_id):
    client("allocation").post(f"/campaigns/{campaign_id}/allocation/dry-run")
    flash("Simulation faite : ses chiffres sont ci-dessous. Personne n'a été informé.")
    return redirect(url_for("managers.campaign", campaign_id=campaign_id, _anchor="attribution"))


@blp.post("/campagnes/<uuid:campaign_id>/attribution")
@manager_only
def publish_allocation(campaign_id):
    try:
        client("allocation").post(f"/campaigns/{campaign_id}/allocation/publish",
                                  headers={"Idempotency-Key": request.form.get("idempotency_key") or uuid.uuid4().hex})
    except ApiError as error:
        if error.status != 409:
            raise
        flash(PUBLICATION_REFUSALS.get(error.code, error.message))
    else:
        flash("Résultats publiés : chaque famille est informée de la décision.")
    return redirect(url_for("managers.campaign", campaign_id=campaign_id, _anchor="attribution"))


PUBLICATION_STEPS = {
    "demande": ("POST", "/publication-request",
                "Publication demandée : un second gestionnaire doit l'approuver pour que les résultats partent."),
    "approbation": ("POST", "/publication-request/approval",
                    "Résultats publiés : chaque famille est informée de la décision."),
    "retrait": ("DELETE", "/publication-request", "Demande de publication retirée : rien n'a été publié."),
}


@blp.post("/campagnes/<uuid:campaign_id>/attribution/<any(demande, approbation, retrait):step>")
@manager_only
def publication_step(campaign_id, step):
    """Four eyes: one manager asks for the publication, another approves it (or anyone withdraws the request)."""
    method, path, done = PUBLICATION_STEPS[step]
    try:
        client("allocation").call(method, f"/campaigns/{campaign_id}/allocation{path}")
    except ApiError as error:
        if error.status not in (403, 409):
            raise
        flash(PUBLICATION_REFUSALS.get(error.code, error.message))
    else:
        flash(done)
    return redirect(url_for("managers.campaign", campaign_id=campaign_id, _anchor="attribution"))


@blp.get("/campagnes/<uuid:campaign_id>/resultats.csv")
@manager_only
def results_csv(campaign_id):
    answer = client("allocation").get(f"/campaigns/{campaign_id}/allocation/results.csv",
                                      headers={"Accept": "text/csv"})
    return Response(answer.body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="resultats-{campaign_id}-{paris_day(now()).isoformat()}.csv"'})
