"""Event handlers of the allocation worker: campaign events and application events.

Each event is claimed in the inbox in the transaction that applies its effects and records the
events they cause, so a redelivered event changes nothing and a crash leaves all or nothing. Every
event about a campaign takes that campaign's lock first.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine

from services.allocation.store.erasure import erase_family
from services.allocation.store.repository import (
    get_campaign,
    lock_campaign,
    mark_closed,
    mark_intake_drained,
    published_run,
    replace_choices,
    save_application,
    save_snapshot,
)
from services.allocation.store.tables import inbox
from services.allocation.usecases import places
from services.allocation.usecases.arrivals import decide_arrivals
from services.allocation.usecases.seeds import commit_seed
from services.allocation.usecases.validated_facts import fact_validated
from shared.clock import Clock
from shared.events import Event, parse_event
from shared.outbox import claim_event

CAMPAIGNS_CONSUMER = "allocation.campaigns"
APPLICATIONS_CONSUMER = "allocation.applications"

log = logging.getLogger(__name__)


def handle_campaign_record(engine: Engine, clock: Clock, record: Any) -> None:
    handle_campaign_event(engine, clock, parse_event(record.value))


def handle_campaign_event(engine: Engine, clock: Clock, event: Event) -> None:
    with engine.begin() as connection:
        if claim_event(connection, inbox, CAMPAIGNS_CONSUMER, event.id, event.type):
            apply_campaign_event(connection, event, clock())


def handle_application_records(engine: Engine, clock: Clock, records: list[Any]) -> None:
    handle_application_events(engine, clock, [parse_event(record.value) for record in records])


def handle_application_events(engine: Engine, clock: Clock, events: list[Event]) -> None:
    """A partition's batch in one transaction: a campaign's applications arrive by the thousand."""
    with engine.begin() as connection:
        for event in events:
            if claim_event(connection, inbox, APPLICATIONS_CONSUMER, event.id, event.type):
                apply_application_event(connection, event, clock())


def apply_campaign_event(connection: Connection, event: Event, now: datetime) -> None:
    data = event.data
    campaign_id = UUID(data["campaign_id"])
    lock_campaign(connection, campaign_id)
    if event.type in ("campaign.published", "campaign.updated"):
        if save_snapshot(connection, data):
            _catch_up(connection, campaign_id, now)
    elif event.type == "campaign.opened":
        campaign = get_campaign(connection, campaign_id)
        # Unknown mode (the snapshot not seen yet): commit anyway, a seed never used costs nothing.
        if campaign is None or not campaign.first_come:
            commit_seed(connection, campaign_id, now)
    elif event.type == "campaign.closed":
        mark_closed(connection, campaign_id, datetime.fromisoformat(data["at"]))
    # lottery.* events on this topic are this service's own announcements.


def _catch_up(connection: Connection, campaign_id: UUID, now: datetime) -> None:
    """A new snapshot: decide applications that arrived before it, and offer seats a capacity
    increase added, where the campaign decides as applications arrive."""
    campaign = get_campaign(connection, campaign_id)
    decide_arrivals(connection, campaign, now)
    if published_run(connection, campaign_id) is not None:
        places.fill_every_offer(connection, campaign, now)


def apply_application_event(connection: Connection, event: Event, now: datetime) -> None:
    data = event.data
    if event.type == "family.erased":  # keyed by family, not campaign (docs/privacy.md)
        erase_family(connection, data["family_account"], data["pseudonym"], datetime.fromisoformat(data["erased_at"]))
        return
    if event.type == "household.fact_validated":  # keyed by family too (issue 16)
        fact_validated(connection, data, now)
        return
    if event.type == "household.corrected":  # the family's news (notifications); the facts reach us with intake
        return
    campaign_id = UUID(data["campaign_id"])
    lock_campaign(connection, campaign_id)
    if event.type == "application.intake_closed":
        # Written after the campaign's last application.received on this partition: every one is stored
        # (in this batch or before it), so the draw scheduler may draw as soon as the window is closed here.
        mark_intake_drained(connection, campaign_id, datetime.fromisoformat(data["drained_at"]))
        return
    campaign = get_campaign(connection, campaign_id)
    application_id = UUID(data["application_id"])
    if event.type == "application.received":
        # Intake's own rejections (a duplicate child) never take part.
        if data["status"] == "received" and save_application(connection, data) and campaign is not None:
            decide_arrivals(connection, campaign, now, among=[application_id])
    elif event.type == "application.withdrawn":
        places.withdraw(connection, campaign, application_id, datetime.fromisoformat(data["at"]), now,
                        by_agent=bool(data.get("acted_by_agent")), late_fee_waived=bool(data.get("late_fee_waived")))
    elif event.type == "offer.accepted":
        places.accept(connection, campaign, application_id, UUID(data["offer_id"]), datetime.fromisoformat(data["at"]))
    elif event.type == "offer.declined":
        places.decline(connection, campaign, application_id, UUID(data["offer_id"]), now)
    elif event.type == "application.choices_changed":
        # Registrations allows it before the close only; one written just before it may still arrive after the draw.
        if not replace_choices(connection, application_id, [UUID(offer) for offer in data["choices"]],
                               [UUID(other) for other in data["keep_with_applications"]]):
            log.warning("choices change ignored: the application is decided, withdrawn or unknown",
                        extra={"application_id": str(application_id), "campaign_id": str(campaign_id)})
