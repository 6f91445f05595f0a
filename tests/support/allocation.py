"""Helpers of the allocation tests: campaign and application events as the campaigns and registrations
services send them, a harness that feeds them to the allocation handlers in-process against a real
database, a drawn campaign, and sending events on the real broker."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, Table, func, select

from services.allocation.handlers.events import handle_application_events, handle_campaign_event
from services.allocation.handlers.jobs import DrawScheduler
from services.allocation.store.tables import outbox
from shared.events import Event, make_event
from shared.kafka import Producer
from shared.outbox import outbox_envelopes
from shared.topics import TopicSpec
from tests.support.campaigns import MovableClock

OPENS_AT = datetime(2026, 2, 1, 23, 1, tzinfo=timezone.utc)
CLOSES_AT = datetime(2026, 2, 27, 22, 59, tzinfo=timezone.utc)
# For workers on the real clock: an activity a season ahead of today.
ACTIVITY_AHEAD = date.today() + timedelta(days=120)
TARIFFS = [400 + 100 * tranche for tranche in range(10)]  # tranche 1 pays 4 €, tranche 10 pays 13 €


def an_offer(capacity: int = 2, waitlist_limit: int | None = 10, min_age: int = 6, max_age: int = 12,
             title: str = "Judo", arrondissement: int = 11, starts_on: date = date(2026, 3, 2)) -> dict[str, Any]:
    """An offer of the default campaign's season; tests whose worker reads the real clock pass a `starts_on`
    ahead of it (ACTIVITY_AHEAD), since deadlines and waitlists close before the activity starts."""
    return {"offer_id": uuid.uuid4(), "title": title, "site": "Gymnase Japy", "arrondissement": arrondissement,
            "starts_on": starts_on, "ends_on": starts_on + timedelta(days=4), "min_age": min_age, "max_age": max_age,
            "capacity": capacity, "waitlist_limit": waitlist_limit, "tariffs_cents": TARIFFS}


def a_campaign(mode: str = "lottery", offers: list[dict] | None = None, *, kind: str = "sport_vacances",
               opens_at: datetime = OPENS_AT, closes_at: datetime = CLOSES_AT, criteria: list[dict] | None = None,
               reserved_shares: list[dict] | None = None, lottery_weight: int = 0, keep_siblings_together=False,
               acceptance_delay_hours: int = 72, version: int = 1) -> dict[str, Any]:
    return {"campaign_id": uuid.uuid4(), "version": version, "title": "Paris Sport Vacances — hiver 2026",
            "kind": kind, "status": "scheduled", "opens_at": opens_at, "closes_at": closes_at,
            "reference_date": date(2026, 3, 2), "max_choices": 3,
            "policy": {"mode": mode, "criteria": criteria or [], "reserved_shares": reserved_shares or [],
                       "lottery_weight_per_unsuccessful_year": lottery_weight,
                       "keep_siblings_together": keep_siblings_together,
                       "acceptance_delay_hours": acceptance_delay_hours},
            "offers": offers if offers is not None else [an_offer()]}


def an_application(campaign: dict, *choices: dict, arrival: int, family: str | None = None,
                   birth_date: date = date(2017, 5, 14), quotient_tranche: int | None = None,
                   single_parent: bool = False, keep_with: tuple = (), child_id: uuid.UUID | None = None,
                   first_name: str = "Inès") -> dict[str, Any]:
    return {
        "application_id": uuid.uuid4(), "campaign_id": campaign["campaign_id"],
        "family_account": family or f"family-{uuid.uuid4().hex[:8]}",
        "child": {"child_id": child_id or uuid.uuid4(), "first_name": first_name, "last_name": "Martin",
                  "birth_date": birth_date, "disability_allowance": False, "school": None},
        "household": {"single_parent": single_parent, "quotient_tranche": quotient_tranche,
                      "quotient_justified_on": None, "residence_arrondissement": 11, "postal_mail": False},
        "choices": [offer["offer_id"] for offer in (choices or campaign["offers"][:1])],
        "keep_with_applications": list(keep_with), "sworn_statement": True,
        "submitted_at": OPENS_AT + timedelta(seconds=arrival),
        "hold": {"kind": "none", "offer_id": None, "position": None},
        "arrival_position": arrival, "intake_partition": 4, "status": "received", "reason": None,
    }


def event(event_type: str, data: dict[str, Any]) -> Event:
    return make_event(event_type, source="/tests", subject="tests", data=data)


@dataclass
class Allocation:
    """The allocation worker's handlers, fed in-process, with a clock the test moves."""
    engine: Engine
    clock: MovableClock

    def campaign_event(self, event_type: str, data: dict[str, Any]) -> Event:
        sent = event(event_type, data)
        handle_campaign_event(self.engine, self.clock, sent)
        return sent

    def publish(self, campaign: dict) -> dict:
        self.campaign_event("campaign.published", campaign)
        return campaign

    def open(self, campaign: dict) -> Event:
        return self.campaign_event("campaign.opened", {"campaign_id": campaign["campaign_id"],
                                                       "at": campaign["opens_at"], "version": campaign["version"]})

    def close(self, campaign: dict) -> Event:
        return self.campaign_event("campaign.closed", {"campaign_id": campaign["campaign_id"],
                                                       "at": self.clock(), "version": campaign["version"]})

    def application_events(self, *events: Event) -> None:
        handle_application_events(self.engine, self.clock, list(events))

    def receive(self, *applications: dict) -> None:
        self.application_events(*(event("application.received", application) for application in applications))

    def answer(self, event_type: str, application: dict, offer_id) -> None:
        self.application_events(event(event_type, {
            "application_id": application["application_id"], "campaign_id": application["campaign_id"],
            "family_account": application["family_account"], "offer_id": offer_id, "at": self.clock()}))

    def withdraw(self, application: dict, previous_status: str, **by_an_agent: Any) -> None:
        """As registrations announces it; `by_an_agent`: acted_by_agent, reason, late_fee_waived."""
        self.application_events(event("application.withdrawn", {
            "application_id": application["application_id"], "campaign_id": application["campaign_id"],
            "family_account": application["family_account"], "previous_status": previous_status,
            "at": self.clock(), **by_an_agent}))

    def announced(self, event_type: str) -> list[dict[str, Any]]:
        """The data of every event of this type in the outbox, oldest first."""
        with self.engine.connect() as connection:
            return [envelope["data"] for envelope in outbox_envelopes(connection, outbox, event_type)]

    def count(self, table: Table, *where) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()

    def rows(self, table: Table, *where) -> list:
        with self.engine.connect() as connection:
            return connection.execute(select(table).where(*where)).all()


def drawn_campaign(allocation: Allocation, applications: int = 5, capacity: int = 2):
    campaign = allocation.publish(a_campaign(offers=[an_offer(capacity=capacity)]))
    allocation.open(campaign)
    received = [an_application(campaign, arrival=n) for n in range(applications)]
    allocation.receive(*received)
    allocation.close(campaign)
    DrawScheduler(allocation.engine, allocation.clock, delay=timedelta(0)).tick()
    return campaign, received


def by_outcome(allocation: Allocation) -> dict[str, list[dict]]:
    decided: dict[str, list[dict]] = {}
    for decision in allocation.announced("allocation.decided"):
        decided.setdefault(decision["outcome"], []).append(decision)
    return decided


def application_of(received: list[dict], decision: dict) -> dict:
    return next(a for a in received if str(a["application_id"]) == decision["application_id"])


def send(settings, topic: TopicSpec, keyed: Iterable[tuple[str, dict[str, Any]]], key: Any) -> list[Event]:
    """Send (event type, data) pairs on the real broker's `topic`, all under one message key, in order."""
    producer = Producer(settings)
    sent = [event(event_type, data) for event_type, data in keyed]
    futures = [producer.send_event(topic.name, str(key), one) for one in sent]
    producer.flush(timeout=30)
    for future in futures:
        future.get(timeout=30)
    producer.close()
    return sent
