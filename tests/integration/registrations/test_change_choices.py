"""Issue 20: a family changes an application's ranked choices before the close, in place (same id, same arrival
position), through the real broker, database and Redis; allocation's copy follows the event."""
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from services.allocation.store.tables import applications as allocation_applications
from services.registrations.domain.choices import CHOICES_CHANGED
from services.registrations.store.ledger import locked, transition
from services.registrations.store.tables import applications, outbox
from shared.events import make_event, parse_event
from shared.kafka import Producer
from shared.topics import CAMPAIGN_EVENTS
from shared.waiting import wait_until
from tests.support.allocation import Allocation
from tests.support.campaigns import MovableClock
from tests.support.registrations import campaign_snapshot, offer

CHANGED = "application.choices_changed"


def three_offers() -> list[dict]:
    return [offer(title="Escalade"), offer(title="Judo"), offer(title="Voile")]


def applied(registrations, campaign, account, child, choices=None) -> str:
    submitted = registrations.submit(account, campaign, child, choices=choices)
    assert submitted.status_code == 202, submitted.json
    application_id = submitted.json["application_id"]
    wait_until(lambda: registrations.ledger().get(application_id) == "received", timeout=30,
               what="application in the ledger")
    return application_id


def put_choices(registrations, account, application_id, choices, key="auto", **body):
    headers = {"Authorization": f"Bearer {registrations.token_for('parent', account)}",
               "Idempotency-Key": uuid.uuid4().hex if key == "auto" else key}
    return registrations.client.put(f"/applications/{application_id}/choices",
                                    json={"choices": [str(c) for c in choices], **body}, headers=headers)


def ids(campaign, *indexes) -> list[str]:
    return [str(campaign["offers"][n]["offer_id"]) for n in indexes]


def ledger_row(registrations, application_id) -> dict:
    with registrations.runtime.engine.connect() as connection:
        return dict(connection.execute(select(applications).where(
            applications.c.application_id == uuid.UUID(application_id))).mappings().one())


def announced(registrations, event_type=CHANGED) -> list[dict]:
    with registrations.runtime.engine.connect() as connection:
        return [dict(row) for row in connection.execute(
            select(outbox.c.envelope, outbox.c.published_at).where(outbox.c.event_type == event_type)
            .order_by(outbox.c.position)).mappings()]


def test_choices_change_in_place_once_per_key_and_allocation_follows(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot(offers=three_offers()))
    account, (child,) = registrations.family()
    application_id = applied(registrations, campaign, account, child, choices=ids(campaign, 0))
    before = ledger_row(registrations, application_id)

    changed = put_choices(registrations, account, application_id, ids(campaign, 1, 0), key="change-1")
    assert changed.status_code == 200, changed.json
    assert changed.json["application_id"] == application_id and changed.json["status"] == "received"
    assert changed.json["choices"] == ids(campaign, 1, 0)
    assert changed.json["arrival_position"] == before["arrival_position"]
    note = changed.json["history"][-1]
    assert (note["from_status"], note["to_status"], note["reason"], note["actor_role"]) == (
        "received", "received", CHOICES_CHANGED, "parent")
    row = ledger_row(registrations, application_id)
    assert [str(c) for c in row["choices"]] == ids(campaign, 1, 0)
    assert (row["arrival_position"], row["submitted_at"]) == (before["arrival_position"], before["submitted_at"])
    (event,) = announced(registrations)
    assert event["envelope"]["data"] == {
        "application_id": application_id, "campaign_id": str(campaign["campaign_id"]), "family_account": account,
        "choices": ids(campaign, 1, 0), "keep_with_applications": [], "previous_choices": ids(campaign, 0),
        "at": event["envelope"]["data"]["at"]}

    replay = put_choices(registrations, account, application_id, ids(campaign, 1, 0), key="change-1")
    assert replay.status_code == 200 and replay.json == changed.json
    assert replay.headers["Idempotent-Replayed"] == "true"
    again = put_choices(registrations, account, application_id, ids(campaign, 1, 0))
    assert again.status_code == 200 and again.json["choices"] == ids(campaign, 1, 0)
    assert len(again.json["history"]) == len(changed.json["history"])  # the same choices again: nothing written
    reused = put_choices(registrations, account, application_id, ids(campaign, 2), key="change-1")
    assert reused.status_code == 422 and reused.json["code"] == "idempotency-key-reused"
    assert len(announced(registrations)) == 1

    # The relay publishes it; allocation, fed the ledger's own events (twice), keeps the new choices.
    wait_until(lambda: announced(registrations)[0]["published_at"] is not None, timeout=30, what="event published")
    allocation = Allocation(registrations.runtime.engine, MovableClock(datetime.now(UTC)))
    (received,) = [e for e in announced(registrations, "application.received")
                   if e["envelope"]["data"]["application_id"] == application_id]
    delivered = [parse_event(received["envelope"]), parse_event(announced(registrations)[0]["envelope"])]
    allocation.application_events(*delivered)
    allocation.application_events(*delivered)
    (copy,) = allocation.rows(allocation_applications,
                              allocation_applications.c.application_id == uuid.UUID(application_id))
    assert [str(c) for c in copy.choices] == ids(campaign, 1, 0) and copy.arrival_position == before["arrival_position"]


def test_siblings_kept_together_change_with_the_choices(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot(offers=three_offers()))
    account, (elder, younger) = registrations.family(birth_dates=(date(2015, 6, 1), date(2017, 3, 9)))
    stranger, (other_child,) = registrations.family()
    elder_application = applied(registrations, campaign, account, elder)
    younger_application = applied(registrations, campaign, account, younger)
    foreign = applied(registrations, campaign, stranger, other_child)

    kept = put_choices(registrations, account, younger_application, ids(campaign, 0, 2),
                       keep_with_applications=[elder_application])
    assert kept.status_code == 200, kept.json
    assert kept.json["keep_with_applications"] == [elder_application]
    assert announced(registrations)[-1]["envelope"]["data"]["keep_with_applications"] == [elder_application]

    for wrong in ([foreign], [younger_application], [elder_application, elder_application], [str(uuid.uuid4())]):
        refused = put_choices(registrations, account, younger_application, ids(campaign, 1),
                              keep_with_applications=wrong)
        assert refused.status_code == 422, (wrong, refused.json)
        assert refused.json["errors"][0]["field"].startswith("keep_with_applications")
    unchanged = put_choices(registrations, account, younger_application, ids(campaign, 0, 2))  # siblings left out
    assert unchanged.json["keep_with_applications"] == [elder_application]
    assert len(announced(registrations)) == 1


def test_bad_choices_are_refused_naming_the_field_and_change_nothing(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot(offers=three_offers()))
    elsewhere = registrations.publish_campaign(campaign_snapshot())
    account, (child,) = registrations.family()
    application_id = applied(registrations, campaign, account, child)
    before = ledger_row(registrations, application_id)
    history = registrations.get(account, f"/applications/{application_id}").json["history"]

    cases = {
        "offer-not-in-campaign": ([elsewhere["offers"][0]["offer_id"]], "choices.0"),
        "duplicate-choice": (ids(campaign, 1, 1), "choices.1"),
        "too-many-choices": (ids(campaign, 0, 1, 2) + [str(elsewhere["offers"][0]["offer_id"])], "choices"),
    }
    for code, (choices, field) in cases.items():
        refused = put_choices(registrations, account, application_id, choices)
        assert refused.status_code == 422, refused.json
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert {(e["field"], e["code"]) for e in refused.json["errors"]} >= {(field, code)}
    empty = put_choices(registrations, account, application_id, [])
    assert empty.status_code == 422 and empty.json["errors"][0]["field"] == "choices"

    assert ledger_row(registrations, application_id)["choices"] == before["choices"]
    assert registrations.get(account, f"/applications/{application_id}").json["history"] == history
    assert announced(registrations) == []


def test_another_familys_application_is_not_found(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot(offers=three_offers()))
    account, (child,) = registrations.family()
    stranger, _ = registrations.family()
    application_id = applied(registrations, campaign, account, child)

    for who, which in ((stranger, application_id), (account, str(uuid.uuid4()))):
        refused = put_choices(registrations, who, which, ids(campaign, 1))
        assert refused.status_code == 404 and refused.json["code"] == "application-not-found"
    assert [str(c) for c in ledger_row(registrations, application_id)["choices"]] == ids(campaign, 0)


def test_first_come_choices_are_fixed(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot(mode="fcfs", offers=three_offers()))
    account, (child,) = registrations.family()
    application_id = applied(registrations, campaign, account, child)

    refused = put_choices(registrations, account, application_id, ids(campaign, 1, 0))
    assert refused.status_code == 409 and refused.json["code"] == "choices-fixed-first-come"
    assert "arrival" in refused.json["detail"]
    assert [str(c) for c in ledger_row(registrations, application_id)["choices"]] == ids(campaign, 0)
    assert announced(registrations) == []


def test_a_decided_application_keeps_its_choices(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot(offers=three_offers()))
    account, (child,) = registrations.family()
    application_id = applied(registrations, campaign, account, child)
    with registrations.runtime.engine.begin() as connection:
        transition(connection, locked(connection, uuid.UUID(application_id), None), "waitlisted", None)

    refused = put_choices(registrations, account, application_id, ids(campaign, 1))
    assert refused.status_code == 409 and refused.json["code"] == "choices-fixed-decided"
    assert refused.json["status_now"] == "waitlisted"
    assert announced(registrations) == []


def test_after_the_close_the_choices_are_fixed(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot(offers=three_offers()))
    account, (child,) = registrations.family()
    application_id = applied(registrations, campaign, account, child)
    producer = Producer(registrations.settings)
    producer.send_event(CAMPAIGN_EVENTS.name, str(campaign["campaign_id"]), make_event(
        "campaign.closed", source="/tests", subject="tests", data={
            "campaign_id": campaign["campaign_id"], "at": datetime.now(UTC) - timedelta(seconds=1), "version": 2})
    ).get(timeout=10)
    producer.close()

    # The same choices until the close reaches the directory: a change of nothing, then the refusal.
    closed = wait_until(lambda: (answer := put_choices(registrations, account, application_id, ids(campaign, 0)))
                        .status_code == 409 and answer, timeout=30, what="the close known to registrations")
    assert closed.json["code"] == "window-closed"
    refused = put_choices(registrations, account, application_id, ids(campaign, 1, 0))
    assert refused.status_code == 409 and refused.json["code"] == "window-closed"
    assert [str(c) for c in ledger_row(registrations, application_id)["choices"]] == ids(campaign, 0)
    assert announced(registrations) == []
