"""Decisions from allocation reach the ledger; parents accept or decline before the deadline."""
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from services.registrations.store.intake_guard import held_key, waitlist_key
from services.registrations.store.tables import outbox
from shared.events import make_event
from shared.kafka import Producer
from shared.topics import ALLOCATION_EVENTS
from shared.waiting import wait_until
from tests.support.registrations import campaign_snapshot, offer


def publish_decision(registrations, application: dict, account: str, child, outcome: str, expires_in=timedelta(hours=72),
                     event_type="allocation.decided"):
    offer_id = application["hold"]["offer_id"] or str(uuid.uuid4())
    common = {"application_id": application["application_id"], "campaign_id": application["campaign_id"],
              "family_account": account, "child_id": child, "offer_id": offer_id,
              "offer_expires_at": datetime.now(timezone.utc) + expires_in}
    if event_type == "allocation.decided":
        data = {**common, "outcome": outcome, "waitlist": [], "reasons": [], "allocation_run_id": uuid.uuid4(),
                "explanation_url": f"/applications/{application['application_id']}/explanation"}
    else:
        data = {**{k: common[k] for k in ("application_id", "campaign_id", "family_account", "offer_id")},
                "expired_at": datetime.now(timezone.utc)}
    producer = Producer(registrations.settings)
    event = make_event(event_type, source="/tests/allocation", subject="x", data=data)
    producer.send_event(ALLOCATION_EVENTS.name, str(application["campaign_id"]), event).get(timeout=10)
    producer.close()


def answer(registrations, account, application_id, verb):
    headers = {"Authorization": f"Bearer {registrations.token_for('parent', account)}",
               "Idempotency-Key": uuid.uuid4().hex}
    return registrations.client.post(f"/applications/{application_id}/{verb}", headers=headers)


def outbox_events(registrations):
    with registrations.runtime.engine.connect() as connection:
        return [r.event_type for r in connection.execute(select(outbox.c.event_type).order_by(outbox.c.position))]


def accepted_application(registrations, mode="lottery", capacity=16):
    campaign = registrations.publish_campaign(campaign_snapshot(mode=mode, offers=[offer(capacity=capacity,
                                                                                         waitlist_limit=3)]))
    account, (child,) = registrations.family()
    application = registrations.submit(account, campaign, child).json
    wait_until(lambda: registrations.ledger().get(application["application_id"]), timeout=30, what="application in the ledger")
    return campaign, account, child, application


def test_decision_then_acceptance_confirms_and_tells_allocation(registrations):
    _, account, child, application = accepted_application(registrations)
    application_id = application["application_id"]
    publish_decision(registrations, application, account, child, "allocated")
    wait_until(lambda: registrations.ledger()[application_id] == "allocated", timeout=30, what="allocated in the ledger")
    view = registrations.get(account, f"/applications/{application_id}").json
    assert view["offer_expires_at"] and view["decision"]["outcome"] == "allocated"

    stranger, _ = registrations.family()
    assert answer(registrations, stranger, application_id, "accept").status_code == 404

    accepted = answer(registrations, account, application_id, "accept")
    assert accepted.status_code == 200 and accepted.json["status"] == "confirmed"
    assert outbox_events(registrations)[-1] == "offer.accepted"
    again = answer(registrations, account, application_id, "decline")
    assert again.status_code == 409 and again.json["code"] == "no-offer"


def test_accepting_after_the_deadline_is_refused(registrations):
    _, account, child, application = accepted_application(registrations)
    publish_decision(registrations, application, account, child, "allocated", expires_in=timedelta(seconds=-1))
    wait_until(lambda: registrations.ledger()[application["application_id"]] == "allocated", timeout=30, what="allocated")
    late = answer(registrations, account, application["application_id"], "accept")
    assert late.status_code == 409 and late.json["code"] == "offer-expired"
    assert registrations.ledger()[application["application_id"]] == "allocated"


def test_declining_a_first_come_place_passes_it_to_the_waitlist_in_intakes_counters(registrations, redis_client):
    campaign, account, child, application = accepted_application(registrations, mode="fcfs", capacity=1)
    offer_id = campaign["offers"][0]["offer_id"]
    waiting_family, (waiting_child,) = registrations.family()
    assert registrations.submit(waiting_family, campaign, waiting_child).json["hold"]["kind"] == "waitlisted"
    publish_decision(registrations, application, account, child, "allocated")
    wait_until(lambda: registrations.ledger()[application["application_id"]] == "allocated", timeout=30, what="allocated")

    declined = answer(registrations, account, application["application_id"], "decline")
    assert declined.status_code == 200 and declined.json["status"] == "declined"
    assert outbox_events(registrations)[-1] == "offer.declined"
    # The place goes to the waiting child, not to a newcomer: held stays 1, the waitlist shrinks.
    assert redis_client.get(held_key(campaign["campaign_id"], offer_id)) == "1"
    assert redis_client.get(waitlist_key(campaign["campaign_id"], offer_id)) == "0"
    # And the child who declined may apply again.
    assert registrations.submit(account, campaign, child).status_code == 202


def test_expiry_from_allocation_is_recorded_once(registrations):
    _, account, child, application = accepted_application(registrations)
    publish_decision(registrations, application, account, child, "allocated")
    wait_until(lambda: registrations.ledger()[application["application_id"]] == "allocated", timeout=30, what="allocated")
    publish_decision(registrations, application, account, child, "", event_type="offer.expired")
    wait_until(lambda: registrations.ledger()[application["application_id"]] == "expired", timeout=30, what="expired")
    history = registrations.get(account, f"/applications/{application['application_id']}").json["history"]
    assert [h["to_status"] for h in history] == ["received", "allocated", "expired"]
