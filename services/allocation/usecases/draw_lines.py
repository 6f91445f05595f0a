"""A family's own line in a published draw, and the auditors' full record of every line.

The public bundle (guichet-draw/3) shows pseudonymous lines and a salted commitment to each line's
facts; the family gets its line, its salt and its facts (with the proof that its line is in the
root the lottery mixed), and auditors get the lines key, so that each can check what the public
cannot: that the facts behind a line gave what the line publishes."""
from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from services.allocation.domain import inclusion_proof, line_record, secret_parts
from services.allocation.store.repository import get_campaign, published_bundle
from services.allocation.usecases.draws import draw_inputs
from services.allocation.usecases.seeds import lottery_secret


class NoDrawLine(Exception):
    """The campaign has no published draw with pseudonymous lines (first-come, not drawn yet, or
    drawn before guichet-draw/3), or the application was not in it."""


def _sealed(connection: Connection, campaign_id: UUID) -> tuple[dict[str, Any], bytes, Any]:
    text = published_bundle(connection, campaign_id)
    bundle = None if text is None else json.loads(text)
    secret = lottery_secret(connection, campaign_id)
    campaign = get_campaign(connection, campaign_id)
    if bundle is None or secret is None or campaign is None or "applications_root" not in bundle:
        raise NoDrawLine()
    return bundle, secret, draw_inputs(connection, campaign)


def family_line(connection: Connection, campaign_id: UUID, application_id: UUID) -> dict[str, Any]:
    bundle, secret, inputs = _sealed(connection, campaign_id)
    application = next((a for a in inputs.applications if a.application_id == str(application_id)), None)
    if application is None:
        raise NoDrawLine()
    own = line_record(application, secret)
    published = next((r for r in bundle["applications"] if r["line"] == own["line"]), None)
    if published is None:
        raise NoDrawLine()
    lines = [record["line"] for record in bundle["applications"]]
    return {**own, "facts_commitment": published["facts_commitment"], "applications_root": bundle["applications_root"],
            "inclusion_proof": inclusion_proof(lines, own["line"])}


def audit_record(connection: Connection, campaign_id: UUID) -> dict[str, Any]:
    """Every line with its application, salt and facts, and the lines key (for auditors only)."""
    bundle, secret, inputs = _sealed(connection, campaign_id)
    in_bundle = {record["line"] for record in bundle["applications"]}
    lines = [{"application_id": application.application_id, **line_record(application, secret)}
             for application in inputs.applications]
    return {"campaign_id": campaign_id, "lines_key": secret_parts(secret)[1].hex(),
            "lines": sorted((line for line in lines if line["line"] in in_bundle), key=lambda line: line["line"])}
