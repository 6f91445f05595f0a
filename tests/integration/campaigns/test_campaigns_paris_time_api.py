"""Windows entered and shown in Europe/Paris, kept in UTC, right on the nights the clocks change."""
from services.campaigns.handlers.window_scheduler import WindowScheduler
from tests.support.campaigns import campaign_body, etag_of, offer_body, outbox_events

# Sunday 29 March 2026: at 02:00 Paris clocks jump to 03:00. Sunday 25 October: 03:00 falls back to 02:00.
EASTER_STAGES = [offer_body(starts_on="2026-04-20", ends_on="2026-04-24")]
AUTUMN_STAGES = [offer_body(starts_on="2026-11-09", ends_on="2026-11-13")]


def test_a_window_opening_on_the_spring_forward_night(manager, engine, clock):
    refused = manager.create(campaign_body(opens_at="2026-03-29T02:30", closes_at="2026-04-05T23:59",
                                           offers=EASTER_STAGES))
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "opens_at"
    assert "n'existe pas à Paris" in refused.json["errors"][0]["detail"]

    campaign = manager.published(campaign_body(opens_at="2026-03-29T03:00", closes_at="2026-04-05T23:59",
                                               offers=EASTER_STAGES))
    assert campaign["opens_at"] == "2026-03-29T03:00:00+02:00"
    scheduler = WindowScheduler(engine, clock)

    clock.set("2026-03-29T01:59:59")  # one second before the opening: the next second is 03:00
    assert manager.get(campaign["id"]).json["status"] == "scheduled"
    assert scheduler.announce_due() == []
    clock.advance(seconds=1)
    assert manager.get(campaign["id"]).json["status"] == "open"
    [opened] = scheduler.announce_due()
    assert opened.at.isoformat() == "2026-03-29T01:00:00+00:00"
    assert outbox_events(engine, "campaign.opened")[0]["data"]["at"] == "2026-03-29T01:00:00+00:00"


def test_a_window_opening_in_the_doubled_hour_of_the_fall_back_night(manager, clock):
    ambiguous = manager.create(campaign_body(opens_at="2026-10-25T02:30", closes_at="2026-11-01T23:59",
                                             offers=AUTUMN_STAGES))
    assert ambiguous.status_code == 422 and ambiguous.json["errors"][0]["field"] == "opens_at"
    assert "+02:00" in ambiguous.json["errors"][0]["detail"] and "+01:00" in ambiguous.json["errors"][0]["detail"]

    campaign = manager.published(campaign_body(opens_at="2026-10-25T02:30+01:00", closes_at="2026-11-01T23:59",
                                               offers=AUTUMN_STAGES))
    assert campaign["opens_at"] == "2026-10-25T02:30:00+01:00"
    clock.set("2026-10-25T02:30+02:00")  # the first 02:30 of the night, an hour before the opening
    assert manager.get(campaign["id"]).json["status"] == "scheduled"
    clock.set("2026-10-25T02:30+01:00")
    assert manager.get(campaign["id"]).json["status"] == "open"


def test_instants_with_any_offset_come_back_in_paris_time(manager):
    campaign = manager.created(campaign_body(opens_at="2026-02-01T23:01:00Z", closes_at="2026-06-27T21:59:00+00:00",
                                             policy={"mode": "fcfs"}))
    assert (campaign["opens_at"], campaign["closes_at"]) == ("2026-02-02T00:01:00+01:00", "2026-06-27T23:59:00+02:00")


def test_extending_a_close_across_the_spring_change_keeps_the_wall_clock(manager):
    campaign = manager.published(campaign_body(closes_at="2026-03-27T23:59", offers=EASTER_STAGES))
    extended = manager.act(campaign["id"], "extend-close", etag_of(campaign), {"closes_at": "2026-03-30T23:59"})
    assert extended.json["closes_at"] == "2026-03-30T23:59:00+02:00"
