"""Allocation's offer.places_given read from the broker by the campaigns worker's consumer: the
listing's places remaining and the capacity guard follow it; late or repeated counts change nothing."""
import uuid
from datetime import datetime, timezone
from functools import partial

from services.campaigns.handlers.places_given import handle_allocation_record
from shared.events import make_event
from shared.kafka import ConsumerLoop, Producer, ensure_topics, group_lag
from shared.topics import ALLOCATION_EVENTS
from tests.support.campaigns import campaign_body, etag_of, offer_body
from tests.support.workers import eventually, running


def send_places_given(settings, campaign: dict, offer_id: str, count: int, revision: int) -> None:
    producer = Producer(settings)
    event = make_event("offer.places_given", source="/guichet/allocation", subject=f"offers/{offer_id}", data={
        "campaign_id": campaign["id"], "offer_id": offer_id, "places_given": count, "revision": revision,
        "counted_at": datetime.now(timezone.utc)})
    producer.send_event(ALLOCATION_EVENTS.name, campaign["id"], event).get(timeout=10)
    producer.close()


def send_a_decision(settings, campaign: dict, offer_id: str) -> None:
    """Another allocation event on the same topic, which the feed skips."""
    producer = Producer(settings)
    application = str(uuid.uuid4())
    event = make_event("allocation.decided", source="/guichet/allocation", subject=f"applications/{application}", data={
        "application_id": application, "campaign_id": campaign["id"], "family_account": "family-1",
        "child_id": str(uuid.uuid4()), "outcome": "allocated", "offer_id": offer_id,
        "offer_expires_at": datetime.now(timezone.utc), "allocation_run_id": str(uuid.uuid4()),
        "explanation_url": f"/applications/{application}/explanation"})
    producer.send_event(ALLOCATION_EVENTS.name, campaign["id"], event).get(timeout=10)
    producer.close()


def offer_seen_by_families(app, offer_id: str) -> dict:
    listing = app.test_client().get("/public/campaigns").json
    return next(offer for campaign in listing for offer in campaign["offers"] if offer["id"] == offer_id)


def test_places_given_follow_allocation_in_revision_order(app, settings, engine, manager):
    ensure_topics(settings, [ALLOCATION_EVENTS])
    campaign = manager.published(campaign_body(offers=[offer_body(capacity=20)]))
    offer_id = campaign["offers"][0]["id"]
    feed = ConsumerLoop(settings, f"{settings.kafka_topic_prefix}campaigns-places", [ALLOCATION_EVENTS],
                        handler=partial(handle_allocation_record, engine))
    with running([feed]):
        send_a_decision(settings, campaign, offer_id)
        send_places_given(settings, campaign, offer_id, 12, revision=2)
        send_places_given(settings, campaign, offer_id, 7, revision=1)  # older, arriving late
        send_places_given(settings, campaign, offer_id, 12, revision=2)  # the same, delivered again
        eventually(lambda: group_lag(settings, feed.group_id, ALLOCATION_EVENTS) == 0, what="the feed read")
        assert manager.get(campaign["id"]).json["offers"][0]["places_given"] == 12  # revision 2 kept
        send_places_given(settings, campaign, offer_id, 15, revision=3)
        eventually(lambda: manager.get(campaign["id"]).json["offers"][0]["places_given"] == 15,
                   what="the next count")

    eventually(lambda: offer_seen_by_families(app, offer_id)["places_remaining"] == 5, what="the public listing")
    current = manager.get(campaign["id"]).json
    lowered = manager.write("PATCH", f"/campaigns/{campaign['id']}/offers/{offer_id}", etag_of(current),
                            {"capacity": 14})
    assert lowered.status_code == 422 and "capacity" in str(lowered.json)
    assert manager.get(campaign["id"]).json["offers"][0]["capacity"] == 20
