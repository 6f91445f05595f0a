"""Issue 18, item 4, on a real broker and database: registrations announces `application.intake_closed`
once the ledger's consumer group has read every partition of the intake log past the close (the ends
noted `grace` after it), not before, and once."""
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select

from services.registrations.settings import RegistrationsSettings
from services.registrations.store.campaign_directory import record_campaign_event
from services.registrations.store.tables import outbox
from services.registrations.usecases.intake_drain import IntakeDrain
from shared.events import make_event
from shared.kafka import ConsumerLoop, Producer, ensure_topics, group_lag, group_positions
from shared.topics import APPLICATION_SUBMISSIONS
from tests.support.campaigns import MovableClock, paris
from tests.support.registrations import campaign_snapshot
from tests.support.workers import eventually, running

GRACE = timedelta(seconds=10)


@pytest.fixture
def settings(make_settings):
    settings = make_settings("registrations", RegistrationsSettings)
    ensure_topics(settings, [APPLICATION_SUBMISSIONS], with_dead_letters=False)
    return settings


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def closed_campaign(engine, mode: str, closed_at) -> uuid.UUID:
    snapshot = campaign_snapshot(mode=mode)
    with engine.begin() as connection:
        record_campaign_event(connection, make_event("campaign.published", source="/tests", subject="x", data=snapshot))
        record_campaign_event(connection, make_event("campaign.closed", source="/tests", subject="x", data={
            "campaign_id": snapshot["campaign_id"], "at": closed_at, "version": 1}))
    return snapshot["campaign_id"]


def submit(settings, campaign_id, count: int) -> None:
    producer = Producer(settings)
    for _ in range(count):
        producer.send(APPLICATION_SUBMISSIONS.name, str(campaign_id), json.dumps({"n": uuid.uuid4().hex}))
    producer.flush(timeout=30)
    producer.close()


def announced(engine) -> list[dict]:
    with engine.connect() as connection:
        return list(connection.execute(select(outbox.c.envelope["data"])
                                       .where(outbox.c.event_type == "application.intake_closed")).scalars())


def test_intake_is_announced_drained_once_every_partition_is_read_past_the_close(settings, engine):
    close = paris("2026-02-27T23:59")  # the end of 23:58: any instant does
    lottery = closed_campaign(engine, "lottery", close)
    closed_campaign(engine, "fcfs", close)  # first come: decided as they arrive, nothing to announce
    group = f"{settings.kafka_topic_prefix}ledger-under-test"
    clock = MovableClock(close)
    drain = IntakeDrain(engine, clock, lambda: group_positions(settings, group, APPLICATION_SUBMISSIONS), GRACE)
    submit(settings, lottery, 5)  # acknowledged before the close, not yet in the ledger

    clock.advance(seconds=9)
    assert drain.announce_drained() == []  # still within the grace: more may be on their way
    clock.advance(seconds=1)
    assert drain.announce_drained() == []  # the ends are noted now; the ledger's consumer has read nothing

    reader = ConsumerLoop(settings, group, [APPLICATION_SUBMISSIONS], handler=lambda record: None)
    with running([reader]):
        eventually(lambda: group_lag(settings, group, APPLICATION_SUBMISSIONS) == 0, what="the ledger's reading")
    assert drain.announce_drained() == [lottery]
    [data] = announced(engine)
    assert (data["campaign_id"], data["closed_at"]) == (str(lottery), close.isoformat())
    assert drain.announce_drained() == []
    # Another worker (a fresh IntakeDrain) does not announce it again.
    assert IntakeDrain(engine, clock, drain.positions, GRACE).announce_drained() == []
    assert len(announced(engine)) == 1
