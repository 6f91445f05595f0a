"""Event handlers of the registrations worker: the campaign directory, the intake consumer's ledger writing
and allocation's decisions. Each is idempotent under redelivery."""
from __future__ import annotations

from functools import partial
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from services.registrations.store.campaign_directory import CampaignDirectory, record_campaign_event
from services.registrations.store.intake_guard import IntakeGuard
from services.registrations.store.ledger import counted_position
from services.registrations.store.tables import inbox
from services.registrations.usecases.ledger import FOLLOWED, IntakeRecord, apply_decisions, record_intake
from shared.events import parse_event, parse_event_checked_once
from shared.outbox import claim_event, claim_events

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
    """A batch of the intake log in one transaction; the application id makes it idempotent. Intake writes every
    record alike and checks the first of each shape against the contract before the broker has it, so here the
    first record of the batch is checked in full and the others by their envelope (checking each in full was a
    third of the writer's CPU); the ledger's row still parses every id and instant. A batch that fails is taken
    again record by record, each a batch of one, checked in full."""
    checked: set[str] = set()
    record_intake(engine, [IntakeRecord.from_kafka(record, checked) for record in records])


def handle_decision(engine: Engine, guard: IntakeGuard, record: Any) -> None:
    """allocation.decided, waitlist.promoted, offer.expired → the ledger; an expiry also frees intake's counters.
    (A batch of one: its record is checked in full against its contract.)"""
    handle_decisions(engine, guard, [record])


def handle_decisions(engine: Engine, guard: IntakeGuard, records: list[Any]) -> None:
    """A partition's batch of allocation's events in one transaction (a draw sends 100,000 decisions: one
    transaction each was 185 a second). Records of types the ledger does not follow (`offer.places_given`,
    a few a second) are skipped by their `ce_type` header, unparsed. After the commit, children who left
    (rejected, expired) are let go in intake's guard: a crash in between leaves the guard stricter, never
    looser, until the guard keeper rebuilds it."""
    events, checked = [], set()
    for record in records:
        event_type = dict(record.headers or ()).get("ce_type")
        if event_type is not None and event_type.decode() not in FOLLOWED:
            continue
        events.append(_decision(record.value, checked))
    if not events:
        return
    with engine.begin() as connection:
        applied = apply_decisions(connection, events, partial(claim_events, connection, inbox, DECISIONS_CONSUMER))
    for change in applied:
        if change.event_type in LEAVING or change.data.get("outcome") == "rejected":
            offer_id, had_place = counted_position(change.before)
            guard.leave(change.before["campaign_id"], change.before["child_id"], change.before["application_id"],
                        offer_id, had_place)


def _decision(raw: Any, checked: set[str]) -> tuple[str, str, dict[str, Any]]:
    """(id, type, data) of one of allocation's events, the first of each type in a batch checked in full
    (`parse_event_checked_once`). A record the batch cannot apply makes the whole batch fail; the consumer then
    takes its records one by one, each checked in full (`handle_decision`), and sets the bad one aside."""
    event = parse_event_checked_once(raw, checked)
    return event.id, event.type, event.data
