"""Event handlers of the registrations worker: the campaign directory, the intake consumer's ledger writing
and allocation's decisions. Each is idempotent under redelivery."""
from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from services.registrations.store.campaign_directory import CampaignDirectory, record_campaign_event
from services.registrations.store.intake_guard import IntakeGuard
from services.registrations.store.ledger import counted_position
from services.registrations.store.tables import inbox
from services.registrations.usecases.ledger import IntakeRecord, apply_decision, record_intake
from shared.events import parse_event
from shared.outbox import claim_event

CAMPAIGN_DIRECTORY_CONSUMER = "registrations.campaign-directory"
DECISIONS_CONSUMER = "registrations.decisions"
LEAVING = {"offer.expired"}


def handle_campaign_event(engine: Engine, directory: CampaignDirectory, record: Any) -> None:
    event = parse_event(record.value)
    with engine.begin() as connection:
        if claim_event(connection, inbox, CAMPAIGN_DIRECTORY_CONSUMER, event.id, event.type):
            record_campaign_event(connection, event)
    directory.forget(UUID(event.data["campaign_id"]))


def handle_submissions(engine: Engine, records: list[Any]) -> None:
    """A batch of the intake log in one transaction; the application id makes it idempotent."""
    record_intake(engine, [IntakeRecord.from_kafka(record) for record in records])


def handle_decision(engine: Engine, guard: IntakeGuard, record: Any) -> None:
    """allocation.decided, waitlist.promoted, offer.expired → the ledger; an expiry also frees intake's counters."""
    event = parse_event(record.value)
    with engine.begin() as connection:
        if not claim_event(connection, inbox, DECISIONS_CONSUMER, event.id, event.type):
            return
        before = apply_decision(connection, event.type, event.data)
    if before is not None and (event.type in LEAVING or event.data.get("outcome") == "rejected"):
        offer_id, had_place = counted_position(before)
        guard.leave(before["campaign_id"], before["child_id"], before["application_id"], offer_id, had_place)
