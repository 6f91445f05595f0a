"""Scoped managers in registrations (GUICHET_MANAGER_SCOPES, docs/campaigns.md#scoped-managers-and-four-eyes): a
campaign's intake counters and its waiting room live for the managers its kind or id is granted to, 403 for the
others; a family's record across campaigns (household, export, erasure) for city-wide managers only."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from services.registrations.app import create_app
from services.registrations.settings import RegistrationsSettings
from services.registrations.store.tables import campaign_terms, households
from tests.support.agents import new_family
from tests.support.registrations import campaign_snapshot
from tests.support.scopes import SCOPES, calls_as


@pytest.fixture
def app(make_settings, redis_client):
    app = create_app(make_settings("registrations", RegistrationsSettings, manager_scopes=SCOPES))
    yield app
    app.extensions["guichet.runtime"].close()


@pytest.fixture
def call(app, token_for):
    return calls_as(app, token_for)


def known_campaign(engine, kind: str = "sport_vacances") -> str:
    snapshot = {**campaign_snapshot(), "kind": kind}
    with engine.begin() as connection:
        connection.execute(campaign_terms.insert().values(campaign_id=snapshot["campaign_id"], version=1,
                                                          snapshot=json.loads(json.dumps(snapshot, default=str))))
    return str(snapshot["campaign_id"])


@pytest.mark.parametrize(("path", "in_scope"), [("/applications/counters/{id}", 200),
                                               ("/waiting-rooms/{id}/live", 404)])  # 404: the campaign has no room
def test_a_manager_outside_the_campaigns_kind_gets_403(call, engine, path, in_scope):
    campaign_id = known_campaign(engine)
    refused = call("GET", path.format(id=campaign_id), "conservatoire-team")
    assert (refused.status_code, refused.json["code"]) == (403, "out-of-scope")
    assert call("GET", path.format(id=campaign_id), "no-such-team").status_code == 403  # no grant: nothing
    assert call("GET", path.format(id=campaign_id), "/psv-team").status_code == in_scope  # a Keycloak group path
    assert call("GET", path.format(id=campaign_id), "direction").status_code == in_scope


def test_the_counters_answer_in_scope_and_an_unknown_campaign_only_city_wide(call, engine):
    campaign_id = known_campaign(engine)
    counted = call("GET", f"/applications/counters/{campaign_id}", "psv-team")
    assert counted.status_code == 200 and counted.json["received"] == 0
    unknown = str(uuid.uuid4())
    assert call("GET", f"/applications/counters/{unknown}", "psv-team").status_code == 403
    assert call("GET", f"/applications/counters/{unknown}", "direction").status_code == 200


def test_a_familys_record_across_campaigns_is_for_city_wide_managers_only(call, engine):
    account, _ = new_family(engine)
    for method, path in (("GET", f"/households/{account}"), ("GET", f"/households/{account}/export"),
                         ("POST", f"/households/{account}/erasure")):
        refused = call(method, path, "psv-team")
        assert (refused.status_code, refused.json["code"]) == (403, "out-of-scope"), path
    with engine.connect() as connection:  # the refused erasure changed nothing
        assert connection.execute(select(func.count()).select_from(households)
                                  .where(households.c.family_account == account)).scalar_one() == 1
    assert call("GET", f"/households/{account}", role="service").status_code == 200  # services are not managers
    assert call("GET", f"/households/{account}", "direction").status_code == 200
    assert call("POST", f"/households/{account}/erasure", "direction").status_code == 200
