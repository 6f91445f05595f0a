"""Issue 18, item 3, through the API, the database and the broker: a campaign becomes `allocated` when
allocation announces its draw, `archived` by a manager (idempotent, announced) or after its season, and
its lifecycle terms are stored, announced and checked (422 naming the field)."""
from datetime import datetime, timezone
from functools import partial

from services.campaigns.bootstrap import CampaignsComponents
from services.campaigns.handlers.lifecycle import SeasonArchiver, handle_campaign_topic_record
from shared.events import make_event
from shared.kafka import ConsumerLoop, Producer, group_lag
from shared.topics import CAMPAIGN_EVENTS
from tests.support.campaigns import campaign_body, etag_of, outbox_events
from tests.support.workers import eventually, running

SEED = "00" * 32


def announce_draw(settings, campaign_id: str, revealed_at: datetime) -> None:
    producer = Producer(settings)
    event = make_event("lottery.seed_revealed", source="/guichet/allocation", subject=f"campaigns/{campaign_id}", data={
        "campaign_id": campaign_id, "seed": SEED, "commitment": "11" * 32,
        "allocation_run_id": "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2918", "revealed_at": revealed_at,
        "bundle_url": f"/draws/{campaign_id}/bundle.json"})
    producer.send_event(CAMPAIGN_EVENTS.name, campaign_id, event).get(timeout=10)
    producer.close()


def writer_of(app):
    return app.extensions[CampaignsComponents.extension].writer


def test_the_draws_announcement_makes_the_campaign_allocated_once(app, settings, manager, engine, clock,
                                                                  campaign_topic):
    campaign = manager.published()
    clock.set("2026-02-28T00:03")
    revealed_at = datetime(2026, 2, 27, 23, 2, tzinfo=timezone.utc)
    consumer = ConsumerLoop(settings, f"{settings.kafka_topic_prefix}campaigns-lifecycle", [CAMPAIGN_EVENTS],
                            handler=partial(handle_campaign_topic_record, writer_of(app)))
    with running([consumer]):
        announce_draw(settings, campaign["id"], revealed_at)
        announce_draw(settings, campaign["id"], revealed_at)  # delivered twice
        eventually(lambda: group_lag(settings, consumer.group_id, CAMPAIGN_EVENTS) == 0, what="the topic read")
    allocated = manager.get(campaign["id"]).json
    assert (allocated["status"], allocated["allocated_at"]) == ("allocated", "2026-02-28T00:02:00+01:00")
    assert allocated["version"] == campaign["version"] + 1  # one change, not two
    updates = [e["data"]["status"] for e in outbox_events(engine, "campaign.updated")]
    assert updates == ["allocated"]


def test_a_manager_archives_a_closed_campaign_once_and_it_is_announced(manager, engine, clock):
    campaign = manager.published()
    refused = manager.act(campaign["id"], "archive", None)
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "status"
    clock.set("2026-03-10T09:00")
    first = manager.act(campaign["id"], "archive", None)
    again = manager.act(campaign["id"], "archive", None)
    assert first.status_code == again.status_code == 200
    assert first.json["status"] == "archived" and again.json == first.json
    assert [e["data"]["status"] for e in outbox_events(engine, "campaign.updated")] == ["archived"]


def test_campaigns_are_archived_after_their_season(app, manager, clock):
    campaign = manager.published()  # its offer ends on 6 March 2026
    archiver = SeasonArchiver(writer_of(app))
    clock.set("2026-04-05T12:00")
    archiver.tick()
    assert manager.get(campaign["id"]).json["status"] == "closed"
    clock.set("2026-04-06T00:00")
    archiver.tick()
    assert manager.get(campaign["id"]).json["status"] == "archived"


def test_the_last_minute_is_kept_and_the_snapshot_says_when_the_window_really_closes(manager, engine, clock):
    campaign = manager.published(campaign_body(closes_at="2026-02-23T23:59"))
    assert campaign["closes_at"] == "2026-02-23T23:59:00+01:00"
    assert campaign["window_closes_at"] == "2026-02-24T00:00:00+01:00"
    [published] = outbox_events(engine, "campaign.published")
    assert published["data"]["closes_at"] == "2026-02-23T23:00:00+00:00"
    clock.set("2026-02-23T23:59:59")
    assert manager.get(campaign["id"]).json["status"] == "open"
    clock.set("2026-02-24T00:00")
    assert manager.get(campaign["id"]).json["status"] == "closed"


def test_lifecycle_terms_are_stored_and_announced(manager, engine):
    body = campaign_body(waitlist_closes_at="2026-03-01T12:00", free_withdrawal_until="2026-03-01T20:00",
                         late_withdrawal_fee_cents=500,
                         policy={"mode": "lottery", "acceptance_delay_hours": 36, "acceptance_margin_hours": 12})
    campaign = manager.published(body)
    assert (campaign["waitlist_closes_at"], campaign["free_withdrawal_until"], campaign["late_withdrawal_fee_cents"],
            campaign["policy"]["acceptance_margin_hours"]) == (
        "2026-03-01T12:00:00+01:00", "2026-03-01T20:00:00+01:00", 500, 12)
    [published] = outbox_events(engine, "campaign.published")
    data = published["data"]
    assert (data["waitlist_closes_at"], data["free_withdrawal_until"], data["late_withdrawal_fee_cents"],
            data["policy"]["acceptance_margin_hours"]) == (
        "2026-03-01T11:00:00+00:00", "2026-03-01T19:00:00+00:00", 500, 12)
    cleared = manager.patch(campaign["id"], etag_of(campaign), {"waitlist_closes_at": None})
    assert cleared.status_code == 200 and cleared.json["waitlist_closes_at"] is None


def test_bad_lifecycle_terms_are_422_naming_the_field_and_change_nothing(manager):
    campaign = manager.created()
    for body, field in [
        ({"waitlist_closes_at": "2026-02-20T12:00"}, "waitlist_closes_at"),
        ({"late_withdrawal_fee_cents": -1}, "late_withdrawal_fee_cents"),
        ({"free_withdrawal_until": "demain"}, "free_withdrawal_until"),
        ({"policy": {"mode": "lottery", "acceptance_margin_hours": 1000}}, "policy.acceptance_margin_hours"),
    ]:
        response = manager.patch(campaign["id"], etag_of(campaign), body)
        assert response.status_code == 422, (body, response.json)
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert field in [error["field"] for error in response.json["errors"]], response.json
    assert manager.get(campaign["id"]).json["version"] == campaign["version"]
