"""`python -m services.campaigns.demo` loads the winter 2026 campaigns once, published and announced, and
the next season's clones of those already over."""
from datetime import datetime, timezone

from services.campaigns.bootstrap import CampaignsComponents
from services.campaigns.demo import load_demo_campaigns
from services.campaigns.demo_data import DEMO_CAMPAIGNS
from tests.support.campaigns import outbox_events

BEFORE_THE_SEASON = datetime(2026, 1, 20, tzinfo=timezone.utc)
AFTER_THE_SEASON = datetime(2026, 11, 29, tzinfo=timezone.utc)


def test_demo_campaigns_are_loaded_published_and_announced_once(app, engine, manager):
    writer = app.extensions[CampaignsComponents.extension].writer
    assert len(load_demo_campaigns(writer, BEFORE_THE_SEASON)) == 3
    loaded = {c["id"]: c for c in manager.client.get("/campaigns", headers=manager.headers()).json}
    assert loaded.keys() == {demo.id for demo in DEMO_CAMPAIGNS}
    psv = loaded[DEMO_CAMPAIGNS[0].id]
    assert (psv["opens_at"], psv["published_at"], psv["version"]) == (
        "2026-02-02T00:01:00+01:00", "2026-01-19T10:00:00+01:00", 1)
    assert [o["id"] for o in psv["offers"]] == [o.id for o in DEMO_CAMPAIGNS[0].offers]
    assert psv["policy"]["reserved_shares"][0]["share"] == 0.2

    assert load_demo_campaigns(writer, BEFORE_THE_SEASON) == []
    assert [e["type"] for e in outbox_events(engine)] == ["campaign.published"] * 3
    assert manager.client.get("/campaigns", headers=manager.headers()).json == list(loaded.values())


def test_past_demo_campaigns_come_with_next_seasons_clone_once(app, manager):
    writer = app.extensions[CampaignsComponents.extension].writer
    inserted = load_demo_campaigns(writer, AFTER_THE_SEASON)
    assert len(inserted) == 6 and "Paris Sport Vacances — hiver 2027" in inserted
    assert load_demo_campaigns(writer, AFTER_THE_SEASON) == []
    campaigns = {c["title"]: c for c in manager.client.get("/campaigns", headers=manager.headers()).json}
    clone = campaigns["Paris Sport Vacances — hiver 2027"]
    assert clone["opens_at"] == "2027-02-01T00:01:00+01:00"  # a Monday again, 00:01 Paris time
    assert clone["published_at"] is not None and len(clone["offers"]) == len(DEMO_CAMPAIGNS[0].offers)
