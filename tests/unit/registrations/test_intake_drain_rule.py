"""Issue 18, item 4: when intake has drained past a close (services/registrations/domain/intake_drain.py)."""
from datetime import UTC, datetime, timedelta

from services.registrations.domain.intake_drain import drained, ready_to_note_target

CLOSE = datetime(2026, 2, 27, 23, 0, tzinfo=UTC)
GRACE = timedelta(seconds=10)


def test_the_ends_are_noted_once_the_grace_after_the_close_has_passed():
    assert not ready_to_note_target(CLOSE, CLOSE + GRACE - timedelta(microseconds=1), GRACE)
    assert ready_to_note_target(CLOSE, CLOSE + GRACE, GRACE)


def test_drained_only_when_every_partition_reached_its_noted_end():
    target = {0: 120, 1: 0, 2: 37}
    assert not drained(target, {0: 120, 1: 0, 2: 36})
    assert not drained(target, {0: 120, 2: 37 + 5} | {1: 0} | {0: 119})
    assert drained(target, {0: 121, 1: 0, 2: 37})
    assert not drained({0: 1}, {})  # a partition never committed is at 0
