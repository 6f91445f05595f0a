"""The worker process (`python -m services.allocation.worker`) on the real broker, killed in the middle
of a draw and again in the middle of handling acceptances, then restarted: every application is
decided by one event and every accepted place is billed by one `registration.confirmed`.

The outbox relay may publish an event twice if it dies between the broker's acknowledgement and its
own bookkeeping; the copy has the same event id, which consumers deduplicate on (docs/events.md).
So "one event" is counted as one event id, on the real topics."""
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from services.allocation.store.repository import campaign_lock_key
from services.allocation.store.tables import allocation_runs, applications, campaigns, decisions, outbox, places
from shared.topics import ALLOCATION_EVENTS, APPLICATION_EVENTS, BILLING_FEED, CAMPAIGN_EVENTS
from tests.support.allocation import ACTIVITY_AHEAD, a_campaign, an_application, an_offer, send
from tests.support.broker import events_on
from tests.support.workers import eventually

REPO = Path(__file__).resolve().parents[3]
APPLICATIONS = 600
PLACES = 400


@pytest.fixture
def engine(settings):
    engine = create_engine(settings.database_url)
    yield engine
    engine.dispose()


def start_worker(settings) -> subprocess.Popen:
    env = {**os.environ, **settings.environment()}
    return subprocess.Popen([sys.executable, "-m", "services.allocation.worker"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill(worker: subprocess.Popen) -> None:
    worker.kill()
    worker.wait(timeout=30)


def scalar(engine, query):
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def draw_in_progress(engine, campaign_id) -> bool:
    """The draw holds the campaign's advisory lock for its whole transaction (pg_locks shows keys as oids)."""
    namespace, digest = (key % 2**32 for key in campaign_lock_key(campaign_id))
    return scalar(engine, text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 "
                               "AND classid = :namespace AND objid = :digest AND granted")
                  .bindparams(namespace=namespace, digest=digest)) > 0


def send_in_waves(settings, keyed_events: list, key, wave: int = 50, pause_seconds: float = 0.3) -> None:
    for start in range(0, len(keyed_events), wave):
        send(settings, APPLICATION_EVENTS, keyed_events[start:start + wave], key=key)
        time.sleep(pause_seconds)


def all_published(engine) -> bool:
    return scalar(engine, select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))) == 0


def event_ids_by(events: list[dict], field: str) -> dict[str, set[str]]:
    ids = defaultdict(set)
    for envelope in events:
        ids[envelope["data"][field]].add(envelope["id"])
    return ids


def test_a_killed_worker_restarts_without_deciding_or_billing_anything_twice(settings, engine):
    campaign = a_campaign(offers=[an_offer(starts_on=ACTIVITY_AHEAD, capacity=PLACES, waitlist_limit=None)])
    key = campaign["campaign_id"]
    received = {str(a["application_id"]): a for a in (an_application(campaign, arrival=n) for n in range(APPLICATIONS))}
    first = start_worker(settings)
    send(settings, CAMPAIGN_EVENTS, [("campaign.published", campaign), ("campaign.opened", {
        "campaign_id": key, "version": 1, "at": campaign["opens_at"]})], key=key)
    send(settings, APPLICATION_EVENTS, [("application.received", a) for a in received.values()], key=key)
    eventually(lambda: scalar(engine, select(func.count()).select_from(applications)) == APPLICATIONS,
               timeout=60, what="every application stored")

    send(settings, CAMPAIGN_EVENTS, [("campaign.closed", {"campaign_id": key, "version": 1,
                                                          "at": campaign["closes_at"]})], key=key)
    eventually(lambda: scalar(engine, select(campaigns.c.closed_at)) is not None, interval=0.01, what="close")
    eventually(lambda: draw_in_progress(engine, key), interval=0.005, what="the draw under way")
    kill(first)
    assert scalar(engine, select(func.count()).select_from(allocation_runs)) == 0, "killed after the draw committed"

    second = start_worker(settings)
    eventually(lambda: scalar(engine, select(func.count()).select_from(decisions)) == APPLICATIONS, timeout=60,
               what="the draw after the restart")
    with engine.connect() as connection:
        allocated = connection.execute(select(decisions.c.application_id, decisions.c.offer_id)
                                       .where(decisions.c.outcome == "allocated")).all()
    assert len(allocated) == PLACES
    # A waitlisted family withdraws: once that is applied, the restarted worker's consumer is live.
    with engine.connect() as connection:
        waiting = connection.execute(select(decisions.c.application_id).where(decisions.c.outcome != "allocated")
                                     .limit(1)).scalar_one()
    send(settings, APPLICATION_EVENTS, [("application.withdrawn", {
        "application_id": waiting, "campaign_id": key, "family_account": received[str(waiting)]["family_account"],
        "previous_status": "waitlisted", "at": campaign["closes_at"]})], key=key)
    eventually(lambda: scalar(engine, select(applications.c.withdrawn_at).where(
        applications.c.application_id == waiting)) is not None, timeout=60, what="the consumer back after the restart")
    acceptances = [("offer.accepted", {"application_id": application_id, "campaign_id": key,
                                       "family_account": received[str(application_id)]["family_account"],
                                       "offer_id": offer_id, "at": campaign["closes_at"]})
                   for application_id, offer_id in allocated]
    # Parents answer over a few seconds; the worker is killed as soon as the first places are billed.
    answering = threading.Thread(target=send_in_waves, args=(settings, acceptances, key))
    answering.start()
    confirmed_rows = select(func.count()).select_from(outbox).where(outbox.c.event_type == "registration.confirmed")
    eventually(lambda: scalar(engine, confirmed_rows) > 0, interval=0.005, what="the first confirmations")
    kill(second)
    answering.join(timeout=60)
    assert scalar(engine, confirmed_rows) < PLACES, "killed after every acceptance was handled"

    third = start_worker(settings)
    eventually(lambda: scalar(engine, confirmed_rows) == PLACES and all_published(engine), timeout=60,
               what="every acceptance handled and published after the restart")
    third.send_signal(signal.SIGTERM)
    assert third.wait(timeout=30) == 0

    decided = event_ids_by(events_on(settings, ALLOCATION_EVENTS, "allocation.decided"), "application_id")
    assert decided.keys() == received.keys() and all(len(ids) == 1 for ids in decided.values())
    billed = event_ids_by(events_on(settings, BILLING_FEED, "registration.confirmed"), "line_id")
    assert billed.keys() == {f"reg-{application_id}" for application_id, _ in allocated}
    assert all(len(ids) == 1 for ids in billed.values())
    assert scalar(engine, select(func.count()).select_from(places).where(places.c.state == "accepted")) == PLACES
    assert len({e["id"] for e in events_on(settings, CAMPAIGN_EVENTS, "lottery.seed_revealed")}) == 1
