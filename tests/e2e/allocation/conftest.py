"""The allocation worker against the real broker: its settings, with every topic created."""
import pytest

from shared.kafka import ensure_topics


@pytest.fixture
def settings(make_settings):
    settings = make_settings("allocation-worker")
    ensure_topics(settings)
    return settings
