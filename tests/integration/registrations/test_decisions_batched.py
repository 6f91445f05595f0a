"""Issue 18, item 4: allocation's decisions reach the ledger in batches (one transaction per polled
batch), and a redelivered decision — in the same batch, or read again later — changes nothing."""
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from services.registrations.store.tables import application_transitions, inbox
from services.registrations.usecases.ledger import IntakeRecord, record_intake
from shared.events import make_event
from shared.kafka import Producer, group_lag
from shared.topics import ALLOCATION_EVENTS
from shared.waiting import wait_until
from tests.integration.registrations.test_ledger import submitted

DECISIONS_GROUP = "registrations-decisions"


def decided(data: dict, outcome: str, offer_id: uuid.UUID, run_id: uuid.UUID):
    application_id = data["application_id"]
    return make_event("allocation.decided", source="/tests/allocation", subject=f"applications/{application_id}", data={
        "application_id": application_id, "campaign_id": data["campaign_id"], "family_account": data["family_account"],
        "child_id": data["child"]["child_id"], "outcome": outcome,
        "offer_id": offer_id if outcome == "allocated" else None,
        "offer_expires_at": datetime.now(timezone.utc) + timedelta(hours=72) if outcome == "allocated" else None,
        "waitlist": [], "reasons": [] if outcome != "rejected" else ["waitlist_full"], "allocation_run_id": run_id,
        "explanation_url": f"/applications/{application_id}/explanation"})


def expired(data: dict, offer_id: uuid.UUID):
    return make_event("offer.expired", source="/tests/allocation", subject="x", data={
        "application_id": data["application_id"], "campaign_id": data["campaign_id"],
        "family_account": data["family_account"], "offer_id": offer_id, "expired_at": datetime.now(timezone.utc)})


def places_given(campaign_id: uuid.UUID, offer_id: uuid.UUID):
    return make_event("offer.places_given", source="/tests/allocation", subject="x", data={
        "campaign_id": campaign_id, "offer_id": offer_id, "places_given": 1, "revision": 1,
        "counted_at": datetime.now(timezone.utc)})


def send(registrations, campaign_id, events) -> None:
    producer = Producer(registrations.settings)
    for event in events:
        producer.send_event(ALLOCATION_EVENTS.name, str(campaign_id), event)
    producer.flush(timeout=30)
    producer.close()


def counts(registrations) -> tuple[int, int]:
    with registrations.runtime.engine.connect() as connection:
        transitions = connection.execute(select(func.count()).select_from(application_transitions)).scalar_one()
        claimed = connection.execute(select(func.count()).select_from(inbox)
                                     .where(inbox.c.consumer == "registrations.decisions")).scalar_one()
    return transitions, claimed


def drained(registrations) -> bool:
    group = f"{registrations.settings.kafka_topic_prefix}{DECISIONS_GROUP}"
    return group_lag(registrations.settings, group, ALLOCATION_EVENTS) == 0


def test_a_draws_decisions_reach_the_ledger_once_under_redelivery(registrations):
    campaign_id, offer_id, run_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    rows = [submitted(campaign_id, family=f"family-{n}") for n in range(300)]
    record_intake(registrations.runtime.engine, [IntakeRecord(data, 0, n) for n, data in enumerate(rows)])
    before, _ = counts(registrations)
    outcomes = ["allocated"] * 100 + ["waitlisted"] * 150 + ["rejected"] * 50
    decisions = [decided(data, outcome, offer_id, run_id) for data, outcome in zip(rows, outcomes, strict=True)]
    # Every decision twice (the relay resent them), the allocation topic's other records among them,
    # and an expiry following a decision inside the same batch.
    send(registrations, campaign_id, [*decisions, places_given(campaign_id, offer_id), *decisions,
                                      expired(rows[0], offer_id)])
    wait_until(lambda: drained(registrations), timeout=60, what="the decisions consumer caught up")

    ledger = registrations.ledger()
    assert [ledger[data["application_id"]] for data in rows] == ["expired"] + outcomes[1:]
    transitions, claimed = counts(registrations)
    assert transitions - before == 301  # one per decision, one expiry: none for the copies
    assert claimed == 301

    send(registrations, campaign_id, decisions[:50])  # read again much later
    wait_until(lambda: drained(registrations), timeout=60, what="the redelivery read")
    assert counts(registrations) == (transitions, claimed)
    assert registrations.ledger() == ledger
