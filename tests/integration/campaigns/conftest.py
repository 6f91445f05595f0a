import pytest

from services.campaigns.app import create_app
from services.campaigns.settings import CampaignsSettings
from shared.kafka import ensure_topics
from shared.topics import CAMPAIGN_EVENTS
from tests.support.campaigns import BEFORE_OPENING, ManagerClient, MovableClock, paris


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(paris(BEFORE_OPENING))


@pytest.fixture
def settings(make_settings):
    return make_settings("campaigns", CampaignsSettings)


@pytest.fixture
def app(settings, clock, redis_client):
    app = create_app(settings, clock=clock)
    yield app
    app.extensions["guichet.runtime"].close()


@pytest.fixture
def engine(app):
    return app.extensions["guichet.runtime"].engine


@pytest.fixture
def manager(app, token_for) -> ManagerClient:
    return ManagerClient(app.test_client(), token_for("manager", "agent-1"))


@pytest.fixture
def campaign_topic(settings):
    ensure_topics(settings, [CAMPAIGN_EVENTS], with_dead_letters=False)
