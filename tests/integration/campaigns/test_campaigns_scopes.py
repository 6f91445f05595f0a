"""Scoped managers (GUICHET_MANAGER_SCOPES, docs/campaigns.md#scoped-managers-and-four-eyes): a manager acts only on
the campaign kinds and named campaigns its provider roles or groups grant; anything else is 403 and changes
nothing. And four eyes, the campaign setting allocation reads from the snapshot."""
from __future__ import annotations

import uuid

import pytest

from services.campaigns.app import create_app
from services.campaigns.settings import CampaignsSettings
from tests.support.campaigns import ManagerClient, campaign_body, etag_of, outbox_events, outbox_size

SCOPES = "psv-team=kind:sport_vacances;conservatoire-team=kind:conservatoire_examen"


@pytest.fixture
def scoped_app(make_settings, clock, redis_client):
    app = create_app(make_settings("campaigns", CampaignsSettings, manager_scopes=SCOPES), clock=clock)
    yield app
    app.extensions["guichet.runtime"].close()


@pytest.fixture
def managers(scoped_app, token_for):
    def manager_in(*groups: str) -> ManagerClient:
        return ManagerClient(scoped_app.test_client(),
                             token_for("manager", f"manager-{uuid.uuid4().hex[:6]}", groups=list(groups)))
    return manager_in


def test_a_manager_outside_the_campaigns_kind_gets_403_and_changes_nothing(scoped_app, managers):
    psv, conservatoire = managers("psv-team"), managers("/conservatoire-team")  # a Keycloak group path
    campaign = psv.created()
    engine = scoped_app.extensions["guichet.runtime"].engine
    events_before = outbox_size(engine)

    assert conservatoire.get(campaign["id"]).status_code == 403
    edit = conservatoire.patch(campaign["id"], etag_of(campaign), {"title": "Pris par un autre service"})
    assert edit.status_code == 403 and edit.json["code"] == "out-of-scope"
    for action in ("publish", "archive", "close-early"):
        assert conservatoire.act(campaign["id"], action, etag_of(campaign)).status_code == 403
    offer_id = campaign["offers"][0]["id"]
    assert conservatoire.write("PATCH", f"/campaigns/{campaign['id']}/offers/{offer_id}", etag_of(campaign),
                               {"capacity": 1}).status_code == 403
    assert conservatoire.client.get(f"/campaigns/{campaign['id']}/audit",
                                    headers=conservatoire.headers()).status_code == 403
    assert conservatoire.client.post(f"/campaigns/{campaign['id']}/clone", json={"shift_days": 364},
                                     headers=conservatoire.headers(**{"Idempotency-Key": "c1"})).status_code == 403
    assert conservatoire.create(campaign_body()).status_code == 403  # a sport_vacances campaign: not its kind

    stored = psv.get(campaign["id"]).json
    assert (stored["version"], stored["title"], stored["status"]) == (campaign["version"], campaign["title"], "draft")
    assert outbox_size(engine) == events_before

    listed = conservatoire.client.get("/campaigns", headers=conservatoire.headers()).json
    assert campaign["id"] not in [found["id"] for found in listed]
    assert campaign["id"] in [found["id"] for found in psv.client.get("/campaigns", headers=psv.headers()).json]


def test_a_manager_cannot_move_a_campaign_to_a_kind_outside_its_scope(managers):
    psv = managers("psv-team")
    campaign = psv.created()
    moved = psv.patch(campaign["id"], etag_of(campaign), {"kind": "conservatoire_examen"})
    assert moved.status_code == 403
    assert psv.get(campaign["id"]).json["kind"] == "sport_vacances"


def test_scopes_by_named_campaign_city_wide_and_none(manager, make_settings, clock, token_for):
    named, other = manager.created(), manager.created()
    app = create_app(make_settings("campaigns", CampaignsSettings,
                                   manager_scopes=f"one-campaign=campaign:{named['id']};direction=*"), clock=clock)
    try:
        def manager_in(*groups: str) -> ManagerClient:
            return ManagerClient(app.test_client(), token_for("manager", groups=list(groups)))
        one = manager_in("one-campaign")
        assert one.get(named["id"]).status_code == 200
        assert one.get(other["id"]).status_code == 403
        assert manager_in("direction").get(other["id"]).status_code == 200  # `*`: city-wide
        nobody = manager_in("somewhere-else")  # scopes are configured and this manager matches none
        assert nobody.get(named["id"]).status_code == 403
        assert nobody.client.get("/campaigns", headers=nobody.headers()).json == []
    finally:
        app.extensions["guichet.runtime"].close()


def test_without_scopes_configured_every_manager_is_city_wide(manager):
    assert manager.get(manager.created()["id"]).status_code == 200


def test_four_eyes_is_on_by_default_announced_and_fixed_once_open(manager, engine, clock):
    campaign = manager.published()
    assert campaign["publication_needs_second_manager"] is True
    (published,) = outbox_events(engine, "campaign.published")
    assert published["data"]["publication_needs_second_manager"] is True

    off = manager.published(campaign_body(publication_needs_second_manager=False))
    assert off["publication_needs_second_manager"] is False

    clock.set("2026-02-10T09:00")
    refused = manager.patch(campaign["id"], etag_of(campaign), {"publication_needs_second_manager": False})
    assert refused.status_code == 422
    assert manager.get(campaign["id"]).json["publication_needs_second_manager"] is True
