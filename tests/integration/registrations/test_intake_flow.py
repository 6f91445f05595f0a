"""Intake end to end through the real broker, database and Redis: 202 only for what is kept."""
import uuid
from datetime import date, datetime, timedelta

from services.registrations.app import create_app
from services.registrations.bootstrap import RegistrationsComponents
from services.registrations.settings import RegistrationsSettings
from services.registrations.store.tables import application_transitions, applications
from shared.waiting import wait_until
from tests.support.registrations import campaign_snapshot, offer


def test_accepted_application_reaches_the_ledger_exactly_once(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot())
    account, (child,) = registrations.family()
    response = registrations.submit(account, campaign, child, key="k-1")
    assert response.status_code == 202, response.json
    application_id = response.json["application_id"]
    assert response.headers["Location"] == response.json["status_url"] == f"/applications/{application_id}"
    assert response.json["hold"]["kind"] == "none"

    replay = registrations.submit(account, campaign, child, key="k-1")
    assert replay.status_code == 202 and replay.json == response.json

    wait_until(lambda: registrations.ledger().get(application_id) == "received", timeout=30, what="application in the ledger")
    assert list(registrations.ledger()) == [application_id]
    status = registrations.get(account, f"/applications/{application_id}")
    assert status.status_code == 200
    assert status.json["status"] == "received" and status.json["arrival_position"] is not None
    assert [h["to_status"] for h in status.json["history"]] == ["received"]


def test_an_application_acknowledged_but_not_yet_in_the_ledger_shows_as_pending(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot())
    account, (child,) = registrations.family()
    submitted = registrations.submit(account, campaign, child)
    application_id = submitted.json["application_id"]
    wait_until(lambda: application_id in registrations.ledger(), timeout=30, what="application in the ledger")
    # As in the seconds between the broker's acknowledgement and the ledger's write: only the pending marker.
    with registrations.runtime.engine.begin() as connection:
        connection.execute(application_transitions.delete())
        connection.execute(applications.delete())

    status = registrations.get(account, f"/applications/{application_id}")
    assert status.status_code == 200, status.json
    assert status.json["status"] == "pending" and status.json["history"] == []
    assert datetime.fromisoformat(status.json["submitted_at"]) == datetime.fromisoformat(submitted.json["submitted_at"])
    other, _ = registrations.family()
    assert registrations.get(other, f"/applications/{application_id}").status_code == 404


def test_fcfs_holds_a_place_then_waitlists(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot(mode="fcfs", offers=[offer(capacity=1,
                                                                                          waitlist_limit=5)]))
    first_family, (first_child,) = registrations.family()
    second_family, (second_child,) = registrations.family()
    held = registrations.submit(first_family, campaign, first_child)
    waiting = registrations.submit(second_family, campaign, second_child)
    assert held.json["hold"]["kind"] == "held" and "Place réservée" in held.json["message"]
    assert waiting.json["hold"] == {"kind": "waitlisted", "offer_id": str(campaign["offers"][0]["offer_id"]),
                                    "position": 1}
    assert "Liste d'attente n°1" in waiting.json["message"]


def test_each_bad_input_gets_its_status_and_changes_nothing(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot(offers=[offer(min_age=7, max_age=10)]))
    upcoming = registrations.publish_campaign(campaign_snapshot(opens_in=timedelta(hours=2),
                                                                closes_in=timedelta(hours=5)))
    closed = registrations.publish_campaign(campaign_snapshot(opens_in=timedelta(hours=-5),
                                                              closes_in=timedelta(hours=-1)))
    account, (child, teenager) = registrations.family(birth_dates=(date(2016, 5, 14), date(2011, 1, 3)))

    missing_key = registrations.submit(account, campaign, child, key=None)
    assert missing_key.status_code == 400 and missing_key.json["code"] == "idempotency-key-missing"

    too_early = registrations.submit(account, upcoming, child)
    assert too_early.status_code == 409
    assert datetime.fromisoformat(too_early.json["opens_at"]) == upcoming["opens_at"]
    assert too_early.json["opens_at"][-6:] in ("+01:00", "+02:00")  # shown in Paris time

    too_late = registrations.submit(account, closed, child)
    assert too_late.status_code == 409 and too_late.json["code"] == "window-closed" and "closes_at" in too_late.json

    foreign_offer = uuid.uuid4()
    not_ours = registrations.submit(account, campaign, child, choices=[foreign_offer])
    assert not_ours.status_code == 422
    assert not_ours.json["errors"][0]["field"] == "choices.0"
    assert not_ours.json["errors"][0]["code"] == "offer-not-in-campaign"

    too_old = registrations.submit(account, campaign, teenager)
    assert too_old.status_code == 422
    error = too_old.json["errors"][0]
    assert error["code"] == "age-out-of-range" and error["offer_id"] == str(campaign["offers"][0]["offer_id"])
    assert "15" in error["detail"]

    unsworn = registrations.submit(account, campaign, child, sworn_statement=False)
    assert unsworn.status_code == 422 and unsworn.json["errors"][0]["field"] == "sworn_statement"

    stranger_child = registrations.submit(account, campaign, uuid.uuid4())
    assert stranger_child.status_code == 422 and stranger_child.json["errors"][0]["field"] == "child_id"

    malformed = registrations.submit(account, campaign, child, choices=["not-a-uuid"])
    assert malformed.status_code == 422 and malformed.json["errors"][0]["field"] == "choices.0"

    first = registrations.submit(account, campaign, child)
    assert first.status_code == 202
    second = registrations.submit(account, campaign, child)
    assert second.status_code == 409 and second.json["existing_application"] == first.json["application_id"]

    wait_until(lambda: registrations.ledger(), timeout=30, what="the one accepted application in the ledger")
    assert list(registrations.ledger()) == [first.json["application_id"]]


def test_broker_unavailable_answers_503_and_keeps_nothing(registrations, make_settings, redis_client):
    campaign = registrations.publish_campaign(campaign_snapshot(mode="fcfs", offers=[offer(capacity=1)]))
    account, (child,) = registrations.family()
    broken = create_app(make_settings("registrations", RegistrationsSettings, kafka_bootstrap_servers="127.0.0.1:1"))
    headers = {"Authorization": f"Bearer {registrations.token_for('parent', account)}", "Idempotency-Key": "k-down"}
    body = {"campaign_id": str(campaign["campaign_id"]), "child_id": str(child),
            "choices": [str(campaign["offers"][0]["offer_id"])], "sworn_statement": True}
    refused = broken.test_client().post("/applications", json=body, headers=headers)
    assert refused.status_code == 503 and refused.headers["Retry-After"], refused.json

    # The held place was given back, and the same key works once the broker answers.
    accepted = registrations.client.post("/applications", json=body, headers=headers)
    assert accepted.status_code == 202 and accepted.json["hold"]["kind"] == "held", accepted.json


def test_a_parent_cannot_see_or_withdraw_another_familys_application(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot())
    owner, (child,) = registrations.family()
    stranger, _ = registrations.family()
    application_id = registrations.submit(owner, campaign, child).json["application_id"]
    wait_until(lambda: registrations.ledger().get(application_id), timeout=30, what="application in the ledger")

    assert registrations.get(stranger, f"/applications/{application_id}").status_code == 404
    headers = {"Authorization": f"Bearer {registrations.token_for('parent', stranger)}", "Idempotency-Key": "w"}
    assert registrations.client.post(f"/applications/{application_id}/withdraw", headers=headers).status_code == 404
    assert registrations.ledger()[application_id] == "received"

    headers["Authorization"] = f"Bearer {registrations.token_for('parent', owner)}"
    withdrawn = registrations.client.post(f"/applications/{application_id}/withdraw", headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"


def test_a_submission_that_fails_before_leaving_gives_its_place_back(registrations, make_settings):
    """Whatever stops the record before it is sent (here the event cannot be built), the hold is
    released: the family's next try gets the place, not 'already applied'."""
    from shared.events import EventError

    campaign = registrations.publish_campaign(campaign_snapshot(mode="fcfs", offers=[offer(capacity=1)]))
    account, (child,) = registrations.family()
    failing = create_app(make_settings("registrations", RegistrationsSettings))

    class Unbuildable:
        def submitted(self, *args, **kwargs):
            raise EventError("a contract this build cannot satisfy")

    failing.extensions[RegistrationsComponents.extension].intake.events = Unbuildable()
    failing.config["PROPAGATE_EXCEPTIONS"] = False
    headers = {"Authorization": f"Bearer {registrations.token_for('parent', account)}", "Idempotency-Key": "k-bug"}
    body = {"campaign_id": str(campaign["campaign_id"]), "child_id": str(child),
            "choices": [str(campaign["offers"][0]["offer_id"])], "sworn_statement": True}
    assert failing.test_client().post("/applications", json=body, headers=headers).status_code == 500

    retried = registrations.client.post("/applications", json=body, headers={**headers, "Idempotency-Key": "k-again"})
    assert retried.status_code == 202 and retried.json["hold"]["kind"] == "held", retried.json
