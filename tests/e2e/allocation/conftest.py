"""The allocation worker against the real broker: its settings, with every topic created."""
from datetime import timedelta

import pytest

from services.allocation.settings import AllocationSettings
from shared.kafka import ensure_topics

# Nobody answers within the tests' clocks: a place expires this long after its deadline.
GRACE = timedelta(minutes=5)


@pytest.fixture
def settings(make_settings):
    # Lottery campaigns are drawn as soon as they close (the worker's own loops or its process).
    settings = make_settings("allocation-worker", AllocationSettings, draw_delay=timedelta(0), offer_grace=GRACE)
    ensure_topics(settings)
    return settings
