"""Issue 18, item 3: deadlines capped before the activity, waitlists closing, credits on withdrawal."""
from datetime import UTC, date, datetime

import pytest

from services.allocation.domain.terms import (
    Credit,
    acceptance_deadline,
    promotion_open,
    withdrawal_credit,
)

MONDAY = date(2026, 3, 2)
FRIDAY = date(2026, 3, 6)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_deadline_falling_after_the_start_is_capped_by_the_margin():
    # The demo's case: a draw on Saturday 28 February, 72 h, a stage from Monday 2 March (midnight Paris = 23:00 UTC).
    assert acceptance_deadline(utc(2026, 2, 27, 23, 5), 72, MONDAY, 24) == utc(2026, 2, 28, 23)
    assert acceptance_deadline(utc(2026, 2, 27, 23, 5), 12, MONDAY, 24) == utc(2026, 2, 28, 11, 5)


def test_promotion_stops_at_the_waitlist_close_and_at_the_cutoff():
    closes = utc(2026, 2, 28, 12)
    assert promotion_open(utc(2026, 2, 28, 11, 59), MONDAY, 24, closes)
    assert not promotion_open(closes, MONDAY, 24, closes)
    assert promotion_open(utc(2026, 2, 28, 22, 59), MONDAY, 24, None)
    assert not promotion_open(utc(2026, 2, 28, 23), MONDAY, 24, None)


@pytest.mark.parametrize("at, free_until, fee, expected", [
    (utc(2026, 3, 1, 18), utc(2026, 3, 1, 19), None, Credit(900, 0, "free")),
    (utc(2026, 3, 1, 19), utc(2026, 3, 1, 19), None, Credit(0, 900, "late_no_credit")),
    (utc(2026, 3, 1, 19), utc(2026, 3, 1, 19), 250, Credit(650, 250, "late_fee")),
    (utc(2026, 3, 1, 19), utc(2026, 3, 1, 19), 5000, Credit(0, 900, "late_fee")),
    # Without a date, free until the activity starts (Monday 00:00 Paris = Sunday 23:00 UTC).
    (utc(2026, 3, 1, 22, 59), None, None, Credit(900, 0, "free")),
    (utc(2026, 3, 1, 23), None, 100, Credit(800, 100, "late_fee")),
    # After the last day (Friday, Paris), nothing is credited.
    (utc(2026, 3, 6, 22, 59), None, 100, Credit(800, 100, "late_fee")),
    (utc(2026, 3, 6, 23), None, 100, Credit(0, 900, "after_the_activity")),
])
def test_the_credit_follows_the_cancellation_rule(at, free_until, fee, expected):
    assert withdrawal_credit(900, at, MONDAY, FRIDAY, free_until, fee) == expected


def test_an_agents_waiver_credits_in_full_only_what_a_late_withdrawal_would_keep():
    late, early, after = utc(2026, 3, 1, 19), utc(2026, 3, 1, 18), utc(2026, 3, 6, 23)
    free_until = utc(2026, 3, 1, 19)
    assert withdrawal_credit(900, late, MONDAY, FRIDAY, free_until, 250, waived_by_agent=True) == Credit(
        900, 0, "agent_exception")
    assert withdrawal_credit(900, early, MONDAY, FRIDAY, free_until, 250, waived_by_agent=True) == Credit(
        900, 0, "free")
    assert withdrawal_credit(900, after, MONDAY, FRIDAY, None, 250, waived_by_agent=True).rule == "after_the_activity"
