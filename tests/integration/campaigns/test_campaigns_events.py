"""What other services learn: each committed write of a published campaign is in the outbox, in
its transaction, and reaches the real broker as a contract-valid CloudEvent."""
from services.campaigns.store.tables import outbox
from shared.events import parse_event
from shared.kafka import Producer
from shared.outbox import OutboxRelay
from tests.support.campaigns import (
    campaign_body,
    campaign_events_on_broker,
    etag_of,
    offer_body,
    outbox_events,
)


def test_drafts_are_private_and_every_change_after_publication_is_announced(manager, engine, clock):
    draft = manager.created()
    draft = manager.patch(draft["id"], etag_of(draft), {"title": "PSV hiver 2026"}).json
    assert outbox_events(engine) == []

    published = manager.act(draft["id"], "publish", etag_of(draft)).json
    with_offer = manager.write("POST", f"/campaigns/{draft['id']}/offers", etag_of(published),
                               offer_body(title="Escalade")).json
    extended = manager.act(draft["id"], "extend-close", etag_of(with_offer), {"closes_at": "2026-02-28T12:00"}).json
    clock.set("2026-02-10T09:30")
    manager.act(draft["id"], "close-early", etag_of(extended))

    events = outbox_events(engine)
    assert [(e["type"], e["data"]["version"], e["data"]["status"]) for e in events] == [
        ("campaign.published", 3, "scheduled"), ("campaign.updated", 4, "scheduled"),
        ("campaign.updated", 5, "scheduled"), ("campaign.updated", 6, "closed")]
    assert [len(e["data"]["offers"]) for e in events] == [1, 2, 2, 2]
    assert events[2]["data"]["closes_at"] == "2026-02-28T11:01:00+00:00"  # the end of the minute named
    assert {e["subject"] for e in events} == {f"campaigns/{draft['id']}"}


def test_a_refused_write_announces_nothing(manager, engine):
    published = manager.published()
    manager.act(published["id"], "extend-close", etag_of(published), {"closes_at": "2026-01-01T00:00"})
    assert [e["type"] for e in outbox_events(engine)] == ["campaign.published"]


def test_publication_reaches_the_broker(manager, engine, settings, campaign_topic):
    campaign = manager.published(campaign_body())
    producer = Producer(settings)
    try:
        assert OutboxRelay(engine, outbox, producer).publish_pending() == 1
    finally:
        producer.close()
    [received] = campaign_events_on_broker(settings)
    event = parse_event(received)  # checked against the campaign.published contract
    assert (event.type, event.source, event.data["campaign_id"]) == (
        "campaign.published", "/guichet/campaigns", campaign["id"])
    assert event.data["opens_at"] == "2026-02-01T23:01:00+00:00"
    assert event.data["offers"][0]["tariffs_cents"] == campaign["offers"][0]["tariffs_cents"]
