"""The scheduler announces each window instant once, whatever dies when; the relay carries it to
the real broker."""
import threading

import pytest

from services.campaigns.handlers import window_scheduler as scheduler_module
from services.campaigns.handlers.window_scheduler import WindowScheduler
from services.campaigns.store.tables import emitted_transitions, outbox
from shared.kafka import Producer
from shared.outbox import OutboxRelay
from tests.support.campaigns import campaign_events_on_broker, etag_of, outbox_events

OPENING = "2026-02-02T00:01"


@pytest.fixture
def relay(engine, settings, campaign_topic):
    producer = Producer(settings)
    yield OutboxRelay(engine, outbox, producer)
    producer.close()


def opened_on_broker(settings, campaign_id):
    return [e for e in campaign_events_on_broker(settings)
            if e["type"] == "campaign.opened" and e["data"]["campaign_id"] == campaign_id]


def test_a_crash_between_the_commit_and_the_publication_neither_loses_nor_repeats(manager, engine, clock, relay,
                                                                                  settings):
    campaign = manager.published()
    clock.set(OPENING)
    clock.advance(seconds=1)
    assert [t.kind for t in WindowScheduler(engine, clock).announce_due()] == ["opened"]
    # The process dies here: the key and the outbox row are committed, nothing is published yet.
    assert relay.pending_count() == 2

    clock.advance(seconds=5)
    assert WindowScheduler(engine, clock).announce_due() == []  # the restarted scheduler repeats nothing
    assert relay.publish_pending() == 2
    [event] = opened_on_broker(settings, campaign["id"])
    assert (event["data"]["at"], event["data"]["version"]) == ("2026-02-01T23:01:00+00:00", 2)


def test_a_crash_inside_the_announcement_leaves_nothing_and_the_restart_announces(manager, engine, clock,
                                                                                   monkeypatch):
    manager.published()
    clock.set("2026-02-02T00:02")

    def killed_while_writing_the_outbox_row(*args, **kwargs):
        raise ConnectionError("process killed mid-transaction")

    monkeypatch.setattr(scheduler_module, "record_event", killed_while_writing_the_outbox_row)
    with pytest.raises(ConnectionError):
        WindowScheduler(engine, clock).announce_due()
    with engine.connect() as connection:
        assert connection.execute(emitted_transitions.select()).all() == []
    monkeypatch.undo()

    assert len(WindowScheduler(engine, clock).announce_due()) == 1
    assert len(outbox_events(engine, "campaign.opened")) == 1


def test_schedulers_running_at_once_announce_once(manager, engine, clock):
    manager.published()
    clock.set("2026-02-02T00:02")
    schedulers = 4
    barrier, announced = threading.Barrier(schedulers), []

    def run() -> None:
        barrier.wait()
        announced.extend(WindowScheduler(engine, clock).announce_due())

    threads = [threading.Thread(target=run) for _ in range(schedulers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(announced) == 1
    assert len(outbox_events(engine, "campaign.opened")) == 1


def test_a_scheduler_down_across_the_whole_window_announces_both_in_order(manager, engine, clock):
    manager.published()
    clock.set("2026-03-01T10:00")
    WindowScheduler(engine, clock).announce_due()
    assert [(e["type"], e["data"]["at"]) for e in outbox_events(engine)[1:]] == [
        ("campaign.opened", "2026-02-01T23:01:00+00:00"), ("campaign.closed", "2026-02-27T23:00:00+00:00")]  # the end of 23:59, Paris


def test_an_early_close_is_announced_at_its_instant_and_an_extension_moves_the_close(manager, engine, clock):
    early = manager.published()
    extended = manager.published()
    scheduler = WindowScheduler(engine, clock)
    manager.act(extended["id"], "extend-close", etag_of(extended), {"closes_at": "2026-03-01T23:59"})
    clock.set("2026-02-10T09:30")
    scheduler.announce_due()
    manager.act(early["id"], "close-early", '"2"')
    clock.set("2026-02-28T10:00")  # after the first planned close, before the extended one
    scheduler.announce_due()
    closed = {e["data"]["campaign_id"]: e["data"]["at"] for e in outbox_events(engine, "campaign.closed")}
    assert closed == {early["id"]: "2026-02-10T08:30:00+00:00"}

    clock.set("2026-03-02T00:00")
    scheduler.announce_due()
    closed = {e["data"]["campaign_id"]: e["data"]["at"] for e in outbox_events(engine, "campaign.closed")}
    assert closed[extended["id"]] == "2026-03-01T23:00:00+00:00" and len(closed) == 2


def test_drafts_are_never_announced(manager, engine, clock):
    manager.created()
    clock.set("2026-03-01T10:00")
    assert WindowScheduler(engine, clock).announce_due() == []
