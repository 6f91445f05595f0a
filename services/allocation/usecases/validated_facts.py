"""A city agent validated a household fact (`household.fact_validated`, issue 16).

For the family's applications not yet drawn, the fact counts as validated from now on, with the validated
value (a policy requiring validated facts then counts it). When the fact is the quotient tranche, every
confirmed registration whose period starts in a month from the effective date's month, and whose line is
at another tranche, is repriced on the billing feed (`registration.repriced`: the line credited, a new line
at the validated tranche's price); lines of earlier months are untouched. Everything in the transaction
that claims the event, under the locks of the family's campaigns (taken in one order).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from services.allocation.domain.pricing import billed_tranche, month_of, unit_price
from services.allocation.store import outbox_events
from services.allocation.store.repository import get_application, get_campaign, lock_campaign
from services.allocation.store.validated_facts import (
    confirmed_registrations,
    current_line,
    family_campaigns,
    replace_facts,
    save_line,
    save_validated_tranche,
    undrawn_applications,
    validated_tranches_of,
)
from shared.domain.policy import HIGHEST_TRANCHE, LOWEST_TRANCHE

log = logging.getLogger(__name__)


def fact_validated(connection: Connection, data: Mapping[str, Any], now: datetime) -> None:
    if not _meaningful(data["fact"], data["value"]):
        # The contract's value is free-form; one allocation cannot read is logged and changes nothing.
        log.error("validated fact ignored: its value is not one allocation reads",
                  extra={"fact": data["fact"], "family_account": data["family_account"]})
        return
    family = data["family_account"]
    for campaign_id in family_campaigns(connection, family):
        lock_campaign(connection, campaign_id)
    _count_as_validated(connection, data)
    if data["fact"] == "quotient_tranche":
        effective_from = date.fromisoformat(data["effective_from"])
        if save_validated_tranche(connection, family, UUID(data["document_id"]), data["value"], effective_from,
                                  datetime.fromisoformat(data["validated_at"])):
            _reprice(connection, family, effective_from, now)


def _meaningful(fact: str, value: Any) -> bool:
    if fact == "quotient_tranche":
        return type(value) is int and LOWEST_TRANCHE <= value <= HIGHEST_TRANCHE
    return type(value) is bool


def _count_as_validated(connection: Connection, data: Mapping[str, Any]) -> None:
    """The fact, with its validated value, in the facts of the applications a draw will read."""
    fact, value = data["fact"], data["value"]
    child_id = data.get("child_id")
    for row in undrawn_applications(connection, data["family_account"]):
        if fact == "disability_allowance" and str(row["child_id"]) != child_id:
            continue  # the allowance is one child's
        household, child = dict(row["household"]), dict(row["child"])
        if fact == "disability_allowance":
            child["disability_allowance"] = value
        else:
            household[fact] = value
        household["validated_facts"] = sorted({*(household.get("validated_facts") or ()), fact})
        if (household, child) != (row["household"], row["child"]):
            replace_facts(connection, row["application_id"], household, child)


def billed(connection: Connection, application: Mapping[str, Any], offer: Mapping[str, Any]) -> tuple[int, int]:
    """(tranche, unit price) a registration of this offer is billed at now: the validated tranche in force in
    its first month, else the one declared with the application."""
    tranche = billed_tranche(application["household"].get("quotient_tranche"), date.fromisoformat(offer["starts_on"]),
                             validated_tranches_of(connection, application["family_account"]))
    return tranche, unit_price(offer["tariffs_cents"], tranche)


def line_of(connection: Connection, application: Mapping[str, Any], offer: Mapping[str, Any]) -> tuple[int, int, int]:
    """(number, tranche, unit price) of the line a confirmed registration stands on."""
    line = current_line(connection, application["application_id"])
    if line is not None:
        return line
    # Confirmed before lines were recorded, hence before any validation: priced from the household.
    tranche = billed_tranche(application["household"].get("quotient_tranche"), date.min, ())
    return 1, tranche, unit_price(offer["tariffs_cents"], tranche)


def _reprice(connection: Connection, family: str, effective_from: date, now: datetime) -> None:
    for registration in confirmed_registrations(connection, family):
        campaign = get_campaign(connection, registration["campaign_id"])
        offer = campaign.offer(registration["offer_id"])
        if month_of(date.fromisoformat(offer["starts_on"])) < month_of(effective_from):
            continue  # an earlier month's line: never repriced
        application = get_application(connection, registration["application_id"])
        number, tranche, price = line_of(connection, application, offer)
        new_tranche, new_price = billed(connection, application, offer)
        if new_tranche == tranche:
            continue
        outbox_events.publish(connection, outbox_events.repriced(
            application, campaign, registration["offer_id"], registration["confirmed_at"], (number, tranche, price),
            new_tranche, new_price, effective_from, now), key=family)
        save_line(connection, registration["application_id"], number + 1, new_tranche, new_price, now)
