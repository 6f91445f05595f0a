"""Intake's load shedding rule (`InFlight`), alone (no I/O)."""
import pytest

from services.registrations.usecases.intake import InFlight, IntakeSaturated


def test_beyond_the_limit_a_submission_is_shed_until_one_leaves():
    in_flight = InFlight(limit=2, retry_after_seconds=3)
    in_flight.enter()
    in_flight.enter()
    with pytest.raises(IntakeSaturated) as shed:
        in_flight.enter()
    assert shed.value.retry_after == 3 and in_flight.serving == 2
    in_flight.leave()
    in_flight.enter()
    assert in_flight.serving == 2


def test_without_a_limit_of_its_own_nothing_is_shed():
    in_flight = InFlight(limit=0)
    for _ in range(500):
        in_flight.enter()
    assert in_flight.serving == 500
