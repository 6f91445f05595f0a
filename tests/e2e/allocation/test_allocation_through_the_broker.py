"""The allocation worker's loops on the real broker: campaign and application events in, decisions,
promotions, expiries and billing lines out, as registrations and billing will read them."""
from datetime import datetime, timezone

import pytest

from services.allocation.bootstrap import build_components
from services.allocation.worker import build_loops
from shared.runtime import Runtime
from shared.topics import ALLOCATION_EVENTS, APPLICATION_EVENTS, BILLING_FEED, CAMPAIGN_EVENTS
from tests.support.allocation import ACTIVITY_AHEAD, a_campaign, an_application, an_offer, send
from tests.support.broker import events_on
from tests.support.campaigns import MovableClock
from tests.support.workers import eventually, running


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime.now(timezone.utc))


@pytest.fixture
def worker(settings, clock):
    runtime = Runtime(settings)
    with running(build_loops(runtime, build_components(settings, runtime, clock))):
        yield
    runtime.close()


def window(campaign: dict) -> list[tuple[str, dict]]:
    instant = {"campaign_id": campaign["campaign_id"], "version": campaign["version"]}
    return [("campaign.published", campaign), ("campaign.opened", {**instant, "at": campaign["opens_at"]})]


def closing(campaign: dict) -> list[tuple[str, dict]]:
    return [("campaign.closed", {"campaign_id": campaign["campaign_id"], "version": campaign["version"],
                                 "at": campaign["closes_at"]})]


def answer(settings, event_type: str, application: dict, offer_id: str, at: datetime) -> None:
    send(settings, APPLICATION_EVENTS, [(event_type, {
        "application_id": application["application_id"], "campaign_id": application["campaign_id"],
        "family_account": application["family_account"], "offer_id": offer_id, "at": at})],
         key=application["campaign_id"])


def published(settings, topic, event_type: str, count: int) -> list[dict]:
    found = eventually(lambda: (lambda got: got if len(got) >= count else None)(
        [e["data"] for e in events_on(settings, topic, event_type)]), what=f"{count} × {event_type} on the broker")
    assert len(found) == count, f"more {event_type} than expected: {found}"
    return found


def test_a_lottery_and_a_first_come_campaign_through_the_broker(settings, clock, worker):
    lottery = a_campaign(offers=[an_offer(starts_on=ACTIVITY_AHEAD, capacity=2, waitlist_limit=5)])
    received = {str(a["application_id"]): a for a in (an_application(lottery, arrival=n) for n in range(5))}
    send(settings, CAMPAIGN_EVENTS, window(lottery), key=lottery["campaign_id"])
    (committed,) = published(settings, CAMPAIGN_EVENTS, "lottery.seed_committed", 1)
    send(settings, APPLICATION_EVENTS, [("application.received", a) for a in received.values()],
         key=lottery["campaign_id"])
    first_come = a_campaign("fcfs", offers=[an_offer(starts_on=ACTIVITY_AHEAD, capacity=2, waitlist_limit=1)])
    arrivals = [an_application(first_come, arrival=n) for n in range(4)]
    send(settings, CAMPAIGN_EVENTS, window(first_come), key=first_come["campaign_id"])
    send(settings, APPLICATION_EVENTS, [("application.received", a) for a in arrivals], key=first_come["campaign_id"])
    eventually(lambda: len(events_on(settings, ALLOCATION_EVENTS, "allocation.decided")) == 4,
               what="first-come decisions")
    send(settings, CAMPAIGN_EVENTS, closing(lottery), key=lottery["campaign_id"])

    decided = published(settings, ALLOCATION_EVENTS, "allocation.decided", 9)
    first_come_decided = [d for d in decided if d["campaign_id"] == str(first_come["campaign_id"])]
    assert [(d["application_id"], d["outcome"]) for d in first_come_decided] == [
        (str(arrivals[0]["application_id"]), "allocated"), (str(arrivals[1]["application_id"]), "allocated"),
        (str(arrivals[2]["application_id"]), "waitlisted"), (str(arrivals[3]["application_id"]), "rejected")]
    (revealed,) = published(settings, CAMPAIGN_EVENTS, "lottery.seed_revealed", 1)
    assert revealed["commitment"] == committed["commitment"]
    lottery_decided = [d for d in decided if d["campaign_id"] == str(lottery["campaign_id"])]
    placed = [d for d in lottery_decided if d["outcome"] == "allocated"]
    line = sorted((d for d in lottery_decided if d["outcome"] == "waitlisted"),
                  key=lambda d: d["waitlist"][0]["position"])
    assert len(placed) == 2 and len(line) == 3

    answer(settings, "offer.declined", received[placed[0]["application_id"]], placed[0]["offer_id"], clock())
    (promoted,) = published(settings, ALLOCATION_EVENTS, "waitlist.promoted", 1)
    assert promoted["application_id"] == line[0]["application_id"]
    answer(settings, "offer.accepted", received[placed[1]["application_id"]], placed[1]["offer_id"], clock())
    (confirmed,) = published(settings, BILLING_FEED, "registration.confirmed", 1)
    assert confirmed["application_id"] == placed[1]["application_id"]

    clock.advance(hours=72, minutes=6)  # nobody else answered: the promoted child, the first-come ones
    expired = published(settings, ALLOCATION_EVENTS, "offer.expired", 3)
    first_come_placed = {str(arrivals[0]["application_id"]), str(arrivals[1]["application_id"])}
    assert {e["application_id"] for e in expired} == {promoted["application_id"], *first_come_placed}
    then_promoted = {p["application_id"]: p for p in published(settings, ALLOCATION_EVENTS, "waitlist.promoted", 3)}
    assert then_promoted[line[1]["application_id"]]["freed_by_application_id"] == promoted["application_id"]
    assert then_promoted[str(arrivals[2]["application_id"])]["freed_by_application_id"] in first_come_placed
