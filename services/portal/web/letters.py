"""The letters queue (role manager, the mail room's role): letters for families who chose paper, each on its
own printed page with the envelope's address where a window envelope shows it (static/letters.css), then
marked printed. Marking sends the ids that were on the page: a letter queued since is not marked unseen."""
from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.portal.client.api import ApiError
from services.portal.web.access import client, role_required

blp = Blueprint("letters", __name__, url_prefix="/gestion/courriers")
manager_only = role_required("manager")
# Printed letters shown for a reprint (a lost or damaged one), most recent first.
PRINTED_SHOWN = 50


def valid_ids(values: list[str]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            continue
    return found


@blp.get("")
@manager_only
def queue():
    printed = request.args.get("imprimes") == "oui"
    found = client("notifications").get("/notifications/letters", {"printed": "true" if printed else "false"}).data
    if printed:
        found = sorted(found, key=lambda letter: letter["printed_at"], reverse=True)[:PRINTED_SHOWN]
    return render_template("letters/queue.html", letters=found, printed=printed)


@blp.post("/<uuid:letter_id>/imprime")
@manager_only
def mark_printed(letter_id):
    try:
        client("notifications").post(f"/notifications/letters/{letter_id}/printed")
    except ApiError as error:
        if error.status != 404:
            raise
        flash("Ce courrier n'existe plus : il a pu être effacé avec les données de la famille.")
    else:
        flash("Courrier marqué comme imprimé.")
    return redirect(url_for("letters.queue"))


@blp.post("/imprimes")
@manager_only
def mark_all_printed():
    """The letters that were on the printed page, each marked once (again: the first printing time is kept)."""
    marked = 0
    for letter_id in valid_ids(request.form.getlist("letter_id")):
        try:
            client("notifications").post(f"/notifications/letters/{letter_id}/printed")
        except ApiError as error:
            if error.status != 404:
                raise
            continue
        marked += 1
    flash(f"{marked} courrier{'s' if marked > 1 else ''} marqué{'s' if marked > 1 else ''} comme imprimé"
          f"{'s' if marked > 1 else ''}.")
    return redirect(url_for("letters.queue"))
