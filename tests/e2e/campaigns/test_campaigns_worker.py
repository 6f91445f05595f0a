"""The worker process (`python -m services.campaigns.worker`) on real time and the real broker:
stopped before a window opens, restarted after it, killed right after announcing it, restarted
again — the opening is announced exactly once: one `campaign.opened` event, one event id."""
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from services.campaigns.domain import AllocationMode, AllocationPolicy, create_campaign, publish_campaign
from services.campaigns.settings import CampaignsSettings
from services.campaigns.store.tables import emitted_transitions, outbox
from services.campaigns.usecases.writing import CampaignWriter
from shared.clock import utc_now
from shared.kafka import ensure_topics
from shared.topics import CAMPAIGN_EVENTS
from shared.waiting import wait_until
from tests.support.campaign_builders import an_offer
from tests.support.campaigns import campaign_events_on_broker

REPO = Path(__file__).resolve().parents[3]
SECONDS_TO_OPENING = 6
WORKER_TIMEOUT = 20.0  # seconds for a started worker to do what the test waits for


@pytest.fixture
def settings(make_settings):
    settings = make_settings("campaigns", CampaignsSettings)
    ensure_topics(settings, [CAMPAIGN_EVENTS], with_dead_letters=False)
    return settings


@pytest.fixture
def engine(settings):
    engine = create_engine(settings.database_url)
    yield engine
    engine.dispose()


def start_worker(settings) -> subprocess.Popen:
    env = {**os.environ, **settings.environment()}
    return subprocess.Popen([sys.executable, "-m", "services.campaigns.worker"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def rows(engine, query) -> list:
    with engine.connect() as connection:
        return connection.execute(query).all()


def all_published(engine) -> bool:
    return not rows(engine, select(outbox.c.position).where(outbox.c.published_at.is_(None)))


def stop(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output


def test_restarts_and_a_kill_across_the_opening_announce_it_exactly_once(settings, engine):
    opens_at = utc_now() + timedelta(seconds=SECONDS_TO_OPENING)
    stage_starts = opens_at.date() + timedelta(days=30)
    draft = create_campaign(id=str(uuid.uuid4()), title="Stage", kind="sport_vacances", description="",
                            opens_at=opens_at, closes_at=opens_at + timedelta(days=7), reference_date=stage_starts,
                            max_choices=1, policy=AllocationPolicy(AllocationMode.FIRST_COME),
                            offers=(an_offer(id=str(uuid.uuid4()), starts_on=stage_starts,
                                             ends_on=stage_starts + timedelta(days=4)),))
    CampaignWriter(engine, utc_now).add(publish_campaign(draft, utc_now()))

    before_opening = start_worker(settings)
    # The relay runs: campaign.published is on the broker.
    wait_until(lambda: all_published(engine), timeout=WORKER_TIMEOUT, interval=0.05, what="the outbox published")
    stop(before_opening)
    assert utc_now() < opens_at, "the worker took too long to start for this test's premise"
    assert rows(engine, emitted_transitions.select()) == []

    time.sleep(max(0.0, (opens_at - utc_now()).total_seconds()))
    after_opening = start_worker(settings)
    wait_until(lambda: rows(engine, emitted_transitions.select()), timeout=WORKER_TIMEOUT, interval=0.05,
               what="the opening announced")
    after_opening.kill()  # no clean stop: the outbox row may or may not be published yet
    after_opening.communicate(timeout=30)

    restarted = start_worker(settings)
    wait_until(lambda: all_published(engine), timeout=WORKER_TIMEOUT, interval=0.05, what="the outbox published")
    time.sleep(1)  # two more scheduler rounds that must not announce it again
    stop(restarted)

    opened = [e for e in campaign_events_on_broker(settings) if e["type"] == "campaign.opened"]
    # Killed between the broker's acknowledgement and marking the outbox row, the relay sends the
    # same event again on restart (at least once, by design: consumers drop the copy by its id).
    # What must never happen is a second announcement, which would carry another id.
    assert opened and all(event == opened[0] for event in opened), opened
    assert opened[0]["data"]["at"] == opens_at.isoformat()
