"""A campaign's waiting room setting: on by default for first-come campaigns, a manager's choice for the
others, announced in every snapshot registrations reads (docs/registrations.md#the-waiting-room)."""
from tests.support.campaigns import campaign_body, etag_of, outbox_events


def test_first_come_campaigns_get_a_room_by_default_and_the_snapshot_says_so(manager, engine):
    manager.published(campaign_body(policy={"mode": "fcfs"}))
    manager.published(campaign_body())
    first_come, lottery = (e["data"]["waiting_room"] for e in outbox_events(engine))
    assert first_come == {"enabled": True, "opens_before_minutes": 30, "admissions_per_minute": 1200}
    assert lottery["enabled"] is False


def test_a_manager_chooses_the_room_and_its_pace(manager, engine):
    draft = manager.created(campaign_body(waiting_room=True, waiting_room_admissions_per_minute=300))
    assert draft["waiting_room"] is True and draft["waiting_room_admissions_per_minute"] == 300
    changed = manager.patch(draft["id"], etag_of(draft), {"waiting_room_opens_before_minutes": 45})
    assert changed.status_code == 200, changed.json
    manager.act(draft["id"], "publish", etag_of(changed.json))
    [published] = outbox_events(engine)
    assert published["data"]["waiting_room"] == {"enabled": True, "opens_before_minutes": 45,
                                                 "admissions_per_minute": 300}
    off = manager.created(campaign_body(policy={"mode": "fcfs"}, waiting_room=False))
    assert off["waiting_room"] is False


def test_an_impossible_pace_is_refused_naming_the_field(manager, engine):
    refused = manager.create(campaign_body(waiting_room_admissions_per_minute=0))
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json["errors"]] == ["waiting_room_admissions_per_minute"]
    draft = manager.created()
    too_early = manager.patch(draft["id"], etag_of(draft), {"waiting_room_opens_before_minutes": 5000})
    assert too_early.status_code == 422
    assert [e["field"] for e in too_early.json["errors"]] == ["waiting_room_opens_before_minutes"]
    assert outbox_events(engine) == []
