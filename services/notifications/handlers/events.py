"""From events to notifications: each event is applied once (inbox claim), in the transaction that
records what it teaches and queues what it tells. Delivery happens later, in the courier."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from services.notifications.domain.events import kind_told
from services.notifications.store.erasure import erase_family
from services.notifications.store.queue import queue, queue_for_subscribers
from services.notifications.store.read_model import (
    close_offer,
    mark_campaign_closed,
    mark_campaign_opened,
    open_offer,
    record_application,
    record_campaign,
)
from services.notifications.store.tables import inbox
from shared.clock import Clock
from shared.events import Event, parse_event, parse_event_checked_once
from shared.outbox import claim_event, claim_events

CONSUMER = "notifications.events"


def handle_record(engine: Engine, clock: Clock, record: Any) -> None:
    handle_event(engine, parse_event(record.value), clock())


def handle_records(engine: Engine, clock: Clock, records: list[Any]) -> None:
    """A partition's polled records in one transaction, in their order: a draw sends 100,000 decisions, and one
    transaction each (a claim, the offer, the message, a commit) kept the notifications worker busy for minutes
    on the cores the ledger needs. Claimed in one statement; a redelivered event, or one twice in the batch, is
    applied once. The first record of each type is checked against its contract in full, the others by their
    envelope; a record that fails fails the batch: the consumer then takes its records one by one, each checked
    in full (`handle_record`)."""
    checked: set[str] = set()
    events = [parse_event_checked_once(record.value, checked) for record in records]
    now = clock()
    with engine.begin() as connection:
        unseen = claim_events(connection, inbox, CONSUMER, ((event.id, event.type) for event in events))
        for event in events:
            if event.id in unseen:
                unseen.discard(event.id)
                apply_event(connection, event, now)


def handle_event(engine: Engine, event: Event, now: datetime) -> None:
    with engine.begin() as connection:
        if claim_event(connection, inbox, CONSUMER, event.id, event.type):
            apply_event(connection, event, now)


def apply_event(connection: Connection, event: Event, now: datetime) -> None:
    data = event.data
    # First what the event teaches (the read model messages are written from), then what it tells.
    match event.type:
        case "campaign.published" | "campaign.updated":
            record_campaign(connection, data)
        case "campaign.opened":
            mark_campaign_opened(connection, data["campaign_id"], datetime.fromisoformat(data["at"]))
            queue_for_subscribers(connection, data["campaign_id"], event.id, data, now)
        case "campaign.closed":
            mark_campaign_closed(connection, data["campaign_id"], datetime.fromisoformat(data["at"]))
        case "application.received":
            record_application(connection, data)
        case "family.erased":
            erase_family(connection, data["family_account"])
        case "allocation.decided" if data["outcome"] == "allocated":
            open_offer(connection, data, offered_at=event.time)
        case "waitlist.promoted":
            open_offer(connection, data, offered_at=event.time)
        case "offer.expired" | "offer.accepted" | "offer.declined" | "application.withdrawn" | \
                "registration.confirmed":
            # Answered, expired or withdrawn: no reminder for this offer, even one read later.
            close_offer(connection, data["application_id"])
    kind = kind_told(event.type, data)
    if kind is not None:
        queue(connection, dedup_key=event.id, family_account=data["family_account"], kind=kind, data=data, now=now,
              cause_event_id=event.id)
