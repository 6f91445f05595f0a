"""From events to notifications: each event is applied once (inbox claim), in the transaction that
records what it teaches and queues what it tells. Delivery happens later, in the courier."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from sqlalchemy import Connection, Engine

from services.notifications.read_model import (close_offer, mark_campaign_opened, open_offer, record_application,
                                               record_campaign)
from services.notifications.store import queue, queue_for_subscribers
from services.notifications.tables import inbox
from shared.events import Event, parse_event
from shared.outbox import claim_event

CONSUMER = "notifications.events"


def handle_record(engine: Engine, clock: Callable[[], datetime], record: Any) -> None:
    handle_event(engine, parse_event(record.value), clock())


def handle_event(engine: Engine, event: Event, now: datetime) -> None:
    with engine.begin() as connection:
        if claim_event(connection, inbox, CONSUMER, event.id, event.type):
            apply_event(connection, event, now)


def apply_event(connection: Connection, event: Event, now: datetime) -> None:
    data = event.data

    def tell(kind: str) -> None:
        queue(connection, dedup_key=event.id, family_account=data["family_account"], kind=kind, data=data, now=now,
              cause_event_id=event.id)

    match event.type:
        case "campaign.published" | "campaign.updated":
            record_campaign(connection, data)
        case "campaign.opened":
            mark_campaign_opened(connection, data["campaign_id"], datetime.fromisoformat(data["at"]))
            queue_for_subscribers(connection, data["campaign_id"], event.id, data, now)
        case "application.received":
            record_application(connection, data)
            # A duplicate refused at intake is a second copy of an application already acknowledged.
            if data["status"] == "received":
                tell("application_received")
        case "allocation.decided" if data["outcome"] == "allocated":
            open_offer(connection, data, offered_at=event.time)
            tell("place_offered")
        case "allocation.decided":
            tell(data["outcome"])
        case "waitlist.promoted":
            open_offer(connection, data, offered_at=event.time)
            tell("place_offered")
        case "offer.expired":
            close_offer(connection, data["application_id"])
            tell("offer_expired")
        case "offer.accepted" | "offer.declined" | "application.withdrawn":
            # The parent acted in the portal: nothing to tell, but no reminder either.
            close_offer(connection, data["application_id"])
        case "registration.confirmed":
            close_offer(connection, data["application_id"])
            tell("registration_confirmed")
        case "registration.cancelled":
            tell("registration_cancelled")
