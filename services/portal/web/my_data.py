"""A family's own data (RGPD): everything Guichet holds about it in one archive, and the erasure of its account's
data, with what erasure keeps and when it is refused said before the button.

The archive is assembled here from each service's own export (docs/privacy.md), each with the family's token:
registrations (household, children, applications and their history), notifications (messages, deliveries,
subscriptions) and allocation (the decision and explanation of each application). A part that a service could not
give right now is named in the archive as missing, never silently left out.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template, request

from services.portal.client.api import ApiError
from services.portal.web.access import account, client, now, role_required
from services.portal.web.sign_in import end_everywhere

blp = Blueprint("my_data", __name__)
parent_only = role_required("parent")

ARCHIVE_FORMAT = "guichet-family-archive/1"


def service_export(name: str, path: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        return client(name).get(path).data, None
    except ApiError as error:
        return None, f"{name}: {error.status} {error.message}"


def decisions_of(application_ids: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Allocation's explanation of each application: its decision, the criteria met, its lottery number."""
    explanations, missing = {}, []
    allocation = client("allocation")
    for application_id in application_ids:
        try:
            explanations[application_id] = allocation.get(f"/explanations/{application_id}").data
        except ApiError as error:
            if error.status not in (404, 409):  # not decided yet: allocation holds no decision to give
                missing.append(f"allocation: {application_id}: {error.status}")
    return explanations, missing


def family_archive() -> dict[str, Any]:
    registrations, registrations_missing = service_export("registrations", "/household/export")
    notifications, notifications_missing = service_export("notifications", "/notifications/export")
    application_ids = [row["application_id"] for row in
                       ((registrations or {}).get("records", {}).get("applications", []))]
    explanations, allocation_missing = decisions_of(application_ids)
    missing = [m for m in (registrations_missing, notifications_missing) if m] + allocation_missing
    return {"format": ARCHIVE_FORMAT, "family_account": account(), "generated_at": now().isoformat(),
            "services": {"registrations": registrations, "notifications": notifications,
                         "allocation": {"service": "allocation", "explanations": explanations}},
            "missing": missing}


@blp.get("/mes-donnees")
@parent_only
def my_data():
    return render_template("parents/my_data.html")


@blp.get("/mes-donnees/archive.json")
@parent_only
def archive():
    body = json.dumps(family_archive(), ensure_ascii=False, indent=2)
    filename = f"guichet-mes-donnees-{now().date().isoformat()}.json"
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@blp.post("/mes-donnees/effacement")
@parent_only
def erase():
    if request.form.get("confirm") != "oui":
        return render_template("parents/my_data.html", errors={
            "confirm": "Cochez la case pour confirmer que vous voulez effacer les données de votre foyer."}), 422
    try:
        client("registrations").post("/household/erasure")  # erasing twice erases nothing more
    except ApiError as error:
        if error.status != 409:
            raise
        return render_template("parents/my_data.html", refused=error.message), 409
    return end_everywhere("my_data.erased")  # the account's data is gone: its sessions end with it


@blp.get("/mes-donnees/effacees")
def erased():
    return render_template("parents/erased.html")
