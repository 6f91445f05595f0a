"""« Historique de mon foyer » (issue 16, item 1): what was changed in a family's household, its children and its
supporting documents, newest first, each « fait par vous » or « fait par un agent, le …, motif : … » (the agent is
not named). Over registrations' `GET /household/history`, read a page at a time (« Modifications plus anciennes »
follows its `next_before`)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from services.portal.client.api import ApiError
from services.portal.web.access import client, role_required
from services.portal.web.documents import children_names
from services.portal.web.parents import read_household
from services.portal.wording import FIELD_NAMES, HISTORY_ACTIONS

blp = Blueprint("history", __name__)
parent_only = role_required("parent")

PAGE_SIZE = 20
# The changes whose fields are worth naming; what was added, removed, sent or declared is named by the action itself.
FIELDS_SHOWN = frozenset({"household.correct", "household.fact_validate", "child.change"})


def field_names(fields: list[str]) -> list[str]:
    """The changed fields in words, once each (`postal_address.city` is the postal address)."""
    return list(dict.fromkeys(FIELD_NAMES.get(name.split(".")[0], name) for name in fields))


def target_name(item: dict[str, Any], names: dict[str, str]) -> str:
    if item["target_type"] == "child":
        return names.get(item["target_id"]) or item.get("child_name") or "un enfant qui n'est plus dans le foyer"
    if item["target_type"] == "document":
        return "un justificatif"
    return "le foyer"


@blp.get("/historique")
@parent_only
def history():
    before = request.args.get("avant", "")
    query = {"limit": PAGE_SIZE, "before": int(before) if before.isdigit() and int(before) > 0 else None}
    try:
        page = client("registrations").get("/household/history", query).data
    except ApiError as error:
        if error.status != 422:
            raise
        page = client("registrations").get("/household/history", {"limit": PAGE_SIZE}).data
    names = children_names(read_household())
    items = [{**item, "what": HISTORY_ACTIONS.get(item["action"], item["action"]),
              "target": target_name(item, names),
              "changed": field_names(item.get("fields") or []) if item["action"] in FIELDS_SHOWN else []}
             for item in page["items"]]
    return render_template("parents/history.html", items=items, next_before=page.get("next_before"),
                           first_page=query["before"] is None)
