"""Intake's Redis work in one script (issue 19) keeps every earlier rule, against the real servers: a household
copy kept in a process's memory is never used once changed, a refused request is still counted by admission,
and a retry meets the first answer even when a check would now refuse it."""
import dataclasses
from datetime import date, timedelta

from services.registrations.app import create_app
from services.registrations.bootstrap import RegistrationsComponents
from services.registrations.store.household_cache import HouseholdReader
from services.registrations.store.households import load_household, save_household
from shared.clock import utc_now
from tests.support.registrations import campaign_snapshot, offer


def components(registrations) -> RegistrationsComponents:
    return registrations.client.application.extensions[RegistrationsComponents.extension]


def test_a_household_changed_elsewhere_is_checked_as_changed(registrations):
    """The submitting process keeps the household it read; another process saves an edit (here the reader a
    household page uses): the next submission is checked against the edit, not the copy in memory."""
    young = registrations.publish_campaign(campaign_snapshot(offers=[offer(min_age=3, max_age=17)]))
    older = registrations.publish_campaign(campaign_snapshot(offers=[offer(min_age=7, max_age=17)]))
    account, (child,) = registrations.family(birth_dates=(date(2015, 6, 1),))
    assert registrations.submit(account, young, child).status_code == 202
    assert components(registrations).intake.memory.get(account).household.children[0].birth_date == date(2015, 6, 1)

    with registrations.runtime.engine.begin() as connection:
        household = load_household(connection, account)
        edited = dataclasses.replace(household, children=(dataclasses.replace(household.children[0],
                                                                              birth_date=date(2021, 3, 2)),))
        saved = save_household(connection, edited)
    HouseholdReader(registrations.runtime.engine, registrations.runtime.redis).write_through(saved)

    refused = registrations.submit(account, older, child)
    assert refused.status_code == 422, refused.json
    assert refused.json["errors"][0]["code"] == "age-out-of-range"
    assert components(registrations).intake.memory.get(account).household.version == saved.version


def test_requests_refused_before_the_script_are_counted_by_admission(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot())
    account, (child,) = registrations.family()
    components(registrations).admission.per_ip_per_minute = 3  # the budget of one address, as configured

    assert registrations.submit(account, campaign, child, choices=["not-a-uuid"]).status_code == 422
    assert registrations.client.post("/applications", json={}, headers={"Idempotency-Key": "k"}).status_code == 401
    assert registrations.submit(account, campaign, child, key=None).status_code == 400
    over = registrations.submit(account, campaign, child)
    assert over.status_code == 429 and over.json["code"] == "ip-rate-limited" and over.headers["Retry-After"]


def test_a_retry_meets_its_first_answer_even_after_the_window_closed(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot(closes_in=timedelta(hours=1)))
    account, (child,) = registrations.family()
    first = registrations.submit(account, campaign, child, key="k-before-close")
    assert first.status_code == 202, first.json

    after_close = create_app(registrations.settings, clock=lambda: utc_now() + timedelta(hours=2)).test_client()
    headers = {"Authorization": f"Bearer {registrations.token_for('parent', account)}",
               "Idempotency-Key": "k-before-close"}
    body = {"campaign_id": str(campaign["campaign_id"]), "child_id": str(child),
            "choices": [str(campaign["offers"][0]["offer_id"])], "sworn_statement": True}
    replay = after_close.post("/applications", json=body, headers=headers)
    assert replay.status_code == 202 and replay.json == first.json
    assert replay.headers["Idempotent-Replayed"] == "true"

    another_body = after_close.post("/applications", json={**body, "sworn_statement": False}, headers=headers)
    assert another_body.status_code == 422 and another_body.json["code"] == "idempotency-key-reused"
    fresh = after_close.post("/applications", json=body, headers={**headers, "Idempotency-Key": "k-after-close"})
    assert fresh.status_code == 409 and fresh.json["code"] == "window-closed"
    after_close.application.extensions["guichet.runtime"].close()
