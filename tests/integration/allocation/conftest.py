"""The allocation service in-process: its handlers on a real database, its API with a manager and parents."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.allocation.app import create_app
from services.allocation.settings import AllocationSettings
from tests.support.allocation import Allocation
from tests.support.campaigns import MovableClock

# Inside the campaign's window: applications are arriving.
DURING_THE_WINDOW = datetime(2026, 2, 10, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(DURING_THE_WINDOW)


@pytest.fixture
def app(make_settings, redis_client, clock):
    app = create_app(make_settings("allocation", AllocationSettings), clock=clock)
    yield app
    app.extensions["guichet.runtime"].close()


@pytest.fixture
def allocation(app, clock) -> Allocation:
    return Allocation(app.extensions["guichet.runtime"].engine, clock)


@pytest.fixture
def manager(app, token_for):
    client, token = app.test_client(), token_for("manager", "agent-1")

    def call(method: str, path: str, **headers):
        return client.open(path, method=method, headers={"Authorization": f"Bearer {token}", **headers})
    return call


@pytest.fixture
def parent(app, token_for):
    client = app.test_client()

    def get(family: str, path: str):
        return client.get(path, headers={"Authorization": f"Bearer {token_for('parent', family)}"})
    return get
