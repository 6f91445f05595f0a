"""Validated household facts (issue 16) in allocation, on real PostgreSQL (and the real broker for the
billing feed): a policy requiring validated facts ignores a declared-only tranche at the draw, a validated
tranche reprices the lines of months from its effective date and not earlier ones, and a redelivered
`household.fact_validated` changes nothing."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.allocation.bootstrap import build_components
from services.allocation.handlers.jobs import DrawScheduler
from services.allocation.settings import AllocationSettings
from services.allocation.store.tables import applications, campaigns, places, validated_tranches
from services.allocation.worker import build_loops
from shared.db import make_engine
from shared.kafka import Producer, ensure_topics
from shared.runtime import Runtime
from shared.topics import APPLICATION_EVENTS, BILLING_FEED, CAMPAIGN_EVENTS
from tests.support.allocation import TARIFFS, a_campaign, an_application, an_offer, event, send
from tests.support.broker import events_on
from tests.support.campaigns import MovableClock
from tests.support.workers import eventually, running

TRANCHES_1_TO_3 = {"name": "quotient_tranche_at_most", "max_tranche": 3}


def validated(family: str, fact: str, value, effective_from: date, *, child_id=None, document_id=None,
              validated_at: datetime = datetime(2026, 2, 20, 10, tzinfo=timezone.utc)) -> dict:
    """`household.fact_validated` as registrations' outbox writes it (keyed by family account)."""
    return {"family_account": family, "fact": fact, "child_id": child_id, "value": value,
            "effective_from": effective_from, "validated_at": validated_at, "document_id": document_id or uuid.uuid4()}


def with_validated(application: dict, *facts: str) -> dict:
    application["household"]["validated_facts"] = list(facts)
    return application


def test_a_policy_requiring_validated_facts_ignores_a_declared_only_tranche(allocation, parent):
    campaign = a_campaign("priority_lottery", offers=[an_offer(capacity=2, waitlist_limit=5)],
                          criteria=[TRANCHES_1_TO_3])
    campaign["policy"]["requires_validated_facts"] = True
    allocation.publish(campaign)
    allocation.open(campaign)
    declared = an_application(campaign, arrival=1, quotient_tranche=2)
    at_intake = with_validated(an_application(campaign, arrival=2, quotient_tranche=2), "quotient_tranche")
    later = an_application(campaign, arrival=3, quotient_tranche=5)  # validated at 2 before the draw
    allocation.receive(declared, at_intake, later)
    allocation.application_events(event("household.fact_validated", validated(
        later["family_account"], "quotient_tranche", 2, date(2026, 2, 1))))
    with allocation.engine.connect() as connection:
        household = connection.execute(select(applications.c.household).where(
            applications.c.application_id == later["application_id"])).scalar_one()
    assert (household["quotient_tranche"], household["validated_facts"]) == (2, ["quotient_tranche"])

    allocation.close(campaign)
    DrawScheduler(allocation.engine, allocation.clock, delay=timedelta(0)).tick()
    outcome = {d["application_id"]: d for d in allocation.announced("allocation.decided")}
    # Two places, two validated tranches within 1–3: whatever the lottery, the declared-only one is not placed.
    assert outcome[str(at_intake["application_id"])]["outcome"] == "allocated"
    assert outcome[str(later["application_id"])]["outcome"] == "allocated"
    assert outcome[str(declared["application_id"])]["outcome"] == "waitlisted"
    assert outcome[str(declared["application_id"])]["reasons"] == ["fact_not_validated"]

    told = parent(declared["family_account"], f"/explanations/{declared['application_id']}").json
    assert told["choices"][0]["tier"] == 2 and told["choices"][0]["criteria_met"] == []
    assert told["reasons"] == [{"code": "fact_not_validated", "offer_id": None,
                                "criterion": "quotient_tranche_at_most(3)"}]
    placed = parent(later["family_account"], f"/explanations/{later['application_id']}").json
    assert placed["choices"][0]["criteria_met"] == ["quotient_tranche_at_most(3)"] and placed["reasons"] == []


def test_a_validation_after_the_draw_leaves_the_drawn_applications_facts_alone(allocation):
    campaign = allocation.publish(a_campaign("lottery", offers=[an_offer(capacity=1)]))
    allocation.open(campaign)
    application = an_application(campaign, arrival=1, quotient_tranche=6)
    allocation.receive(application)
    allocation.close(campaign)
    DrawScheduler(allocation.engine, allocation.clock, delay=timedelta(0)).tick()
    allocation.application_events(event("household.fact_validated", validated(
        application["family_account"], "single_parent", True, date(2026, 2, 1))))
    with allocation.engine.connect() as connection:
        household = connection.execute(select(applications.c.household).where(
            applications.c.application_id == application["application_id"])).scalar_one()
    assert household["single_parent"] is False and "validated_facts" not in household  # bound by the draw's record


def confirmed_family(allocation, *starts: date) -> tuple[dict, list[dict]]:
    """A first-come campaign whose offers start on `starts`, one child of the same family confirmed in each,
    declared at tranche 5."""
    offers = [an_offer(capacity=1, starts_on=day, title=f"Judo {day:%B}") for day in starts]
    campaign = allocation.publish(a_campaign("fcfs", offers=offers))
    allocation.open(campaign)
    family = f"family-{uuid.uuid4().hex[:8]}"
    children = [an_application(campaign, offer, arrival=n, family=family, quotient_tranche=5, first_name=f"Enfant{n}")
                for n, offer in enumerate(offers)]
    allocation.receive(*children)
    for child, offer in zip(children, offers):
        allocation.answer("offer.accepted", child, offer["offer_id"])
    assert [line["quotient_tranche"] for line in allocation.announced("registration.confirmed")] == [5] * len(starts)
    return campaign, children


def test_a_validated_tranche_reprices_the_lines_from_its_month_and_not_the_earlier_ones(allocation):
    february, march = date(2026, 2, 16), date(2026, 3, 2)
    campaign, (in_february, in_march) = confirmed_family(allocation, february, march)
    family = in_march["family_account"]
    change = event("household.fact_validated", validated(family, "quotient_tranche", 2, date(2026, 3, 1)))
    allocation.application_events(change)

    (repriced,) = allocation.announced("registration.repriced")
    march_line = f"reg-{in_march['application_id']}"
    assert (repriced["application_id"], repriced["line_id"], repriced["reverses_line_id"],
            repriced["reversal_line_id"]) == (str(in_march["application_id"]), f"{march_line}-2", march_line,
                                              f"rev-{in_march['application_id']}")
    assert (repriced["reversed_quotient_tranche"], repriced["reversed_unit_price_cents"],
            repriced["quotient_tranche"], repriced["unit_price_cents"]) == (5, TARIFFS[4], 2, TARIFFS[1])
    assert (repriced["period_start"], repriced["quantity"], repriced["effective_from"]) == (
        march.isoformat(), 1, "2026-03-01")

    # Redelivered (the same event), or validated again at the same tranche from another document: nothing new.
    allocation.application_events(change)
    allocation.application_events(event("household.fact_validated", validated(
        family, "quotient_tranche", 2, date(2026, 3, 1))))
    assert len(allocation.announced("registration.repriced")) == 1
    assert allocation.count(validated_tranches, validated_tranches.c.family_account == family) == 2

    # A withdrawal credits the line the registration stands on now, at its price; February's line is untouched.
    allocation.withdraw(in_march, previous_status="confirmed")
    (credit,) = allocation.announced("registration.cancelled")
    assert (credit["line_id"], credit["reverses_line_id"], credit["quotient_tranche"],
            credit["reversed_unit_price_cents"]) == (f"rev-{in_march['application_id']}-2", f"{march_line}-2", 2,
                                                     TARIFFS[1])
    assert all(line["period_start"] != february.isoformat() for line in allocation.announced("registration.repriced"))


def test_a_value_allocation_cannot_read_changes_nothing(allocation):
    campaign, (in_march,) = confirmed_family(allocation, date(2026, 3, 2))
    family = in_march["family_account"]
    for fact, value in (("quotient_tranche", 11), ("quotient_tranche", "2"), ("single_parent", "oui")):
        allocation.application_events(event("household.fact_validated", validated(family, fact, value,
                                                                                   date(2026, 3, 1))))
    assert allocation.announced("registration.repriced") == []
    assert allocation.count(validated_tranches, validated_tranches.c.family_account == family) == 0


def test_a_place_confirmed_after_a_validation_is_billed_at_the_validated_tranche_from_its_month(allocation):
    offers = [an_offer(capacity=1, starts_on=date(2026, 2, 16)), an_offer(capacity=1, starts_on=date(2026, 3, 2))]
    campaign = allocation.publish(a_campaign("fcfs", offers=offers))
    allocation.open(campaign)
    family = f"family-{uuid.uuid4().hex[:8]}"
    children = [an_application(campaign, offer, arrival=n, family=family, quotient_tranche=5)
                for n, offer in enumerate(offers)]
    allocation.receive(*children)
    allocation.application_events(event("household.fact_validated", validated(
        family, "quotient_tranche", 3, date(2026, 3, 1))))
    for child, offer in zip(children, offers):
        allocation.answer("offer.accepted", child, offer["offer_id"])
    lines = {line["period_start"]: line["quotient_tranche"] for line in allocation.announced("registration.confirmed")}
    assert lines == {"2026-02-16": 5, "2026-03-02": 3}
    assert allocation.announced("registration.repriced") == []


# --- through the broker ------------------------------------------------------------------------------

@pytest.fixture
def settings(make_settings):
    settings = make_settings("allocation-worker", AllocationSettings, draw_delay=timedelta(0))
    ensure_topics(settings)
    return settings


def stored(engine, condition) -> bool:
    with engine.connect() as connection:
        return connection.execute(select(condition.left.table).where(condition)).first() is not None


def test_a_validated_tranche_reaches_the_billing_feed_once_through_the_broker(settings):
    clock = MovableClock(datetime(2026, 2, 10, 9, tzinfo=timezone.utc))
    offer = an_offer(capacity=1, starts_on=date(2026, 3, 2))
    campaign = a_campaign("fcfs", offers=[offer])
    application = an_application(campaign, arrival=1, quotient_tranche=7)
    family = application["family_account"]
    runtime = Runtime(settings)
    try:
        with running(build_loops(runtime, build_components(settings, runtime, clock))):
            send(settings, CAMPAIGN_EVENTS, [("campaign.published", campaign), ("campaign.opened", {
                "campaign_id": campaign["campaign_id"], "version": 1, "at": campaign["opens_at"]})],
                 key=campaign["campaign_id"])
            # Campaign and application events travel on different topics, read by different consumers: the
            # application is sent once the campaign is stored, the answer once the place is held, as in real life.
            engine = make_engine(settings)
            eventually(lambda: stored(engine, campaigns.c.campaign_id == campaign["campaign_id"]), timeout=90,
                       what="the campaign stored")
            send(settings, APPLICATION_EVENTS, [("application.received", application)], key=campaign["campaign_id"])
            eventually(lambda: stored(engine, places.c.application_id == application["application_id"]), timeout=90,
                       what="the place held")
            engine.dispose()
            send(settings, APPLICATION_EVENTS, [("offer.accepted", {
                "application_id": application["application_id"], "campaign_id": campaign["campaign_id"],
                "family_account": family, "offer_id": offer["offer_id"], "at": clock()})],
                 key=campaign["campaign_id"])
            eventually(lambda: events_on(settings, BILLING_FEED, "registration.confirmed") or None, timeout=90,
                       what="the confirmed line")
            (change,) = send(settings, APPLICATION_EVENTS, [("household.fact_validated", validated(
                family, "quotient_tranche", 1, date(2026, 3, 1)))], key=family)
            producer = Producer(settings)  # the very same record again, as a producer's retry would deliver it
            producer.send_event(APPLICATION_EVENTS.name, family, change).get(timeout=30)
            producer.close()
            # Then a later validation on the same partition: once its line is out, the duplicate was handled.
            send(settings, APPLICATION_EVENTS, [("household.fact_validated", validated(
                family, "quotient_tranche", 4, date(2026, 3, 1),
                validated_at=datetime(2026, 2, 21, 10, tzinfo=timezone.utc)))], key=family)
            repriced = eventually(lambda: (lambda found: found if len(found) >= 2 else None)(
                events_on(settings, BILLING_FEED, "registration.repriced")), timeout=90, what="two repriced lines")
    finally:
        runtime.close()
    line = f"reg-{application['application_id']}"
    assert [(e["data"]["reverses_line_id"], e["data"]["line_id"], e["data"]["reversed_unit_price_cents"],
             e["data"]["unit_price_cents"]) for e in repriced] == [
        (line, f"{line}-2", TARIFFS[6], TARIFFS[0]), (f"{line}-2", f"{line}-3", TARIFFS[0], TARIFFS[3])]
