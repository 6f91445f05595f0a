"""Issue 18, item 3: a place is not given up once its activity has ended (Paris calendar)."""
from datetime import UTC, date, datetime

import pytest

from services.registrations.domain.applications import (
    ApplicationStatus,
    TransitionRefused,
    WithdrawalAfterActivity,
    check_withdrawal,
)

LAST_DAY = date(2026, 3, 6)
LAST_MINUTE = datetime(2026, 3, 6, 22, 59, 59, tzinfo=UTC)  # 23:59:59 Paris, Friday
NEXT_DAY = datetime(2026, 3, 6, 23, 0, tzinfo=UTC)  # Saturday 00:00 Paris


@pytest.mark.parametrize("status", [ApplicationStatus.CONFIRMED, ApplicationStatus.ALLOCATED])
def test_a_place_is_given_up_until_the_last_day_of_its_activity(status):
    check_withdrawal(status, LAST_DAY, LAST_MINUTE)
    with pytest.raises(WithdrawalAfterActivity) as refused:
        check_withdrawal(status, LAST_DAY, NEXT_DAY)
    assert refused.value.ends_on == LAST_DAY and "2026-03-06" in str(refused.value)


def test_an_application_without_a_place_may_still_be_withdrawn():
    check_withdrawal(ApplicationStatus.WAITLISTED, None, NEXT_DAY)
    check_withdrawal(ApplicationStatus.RECEIVED, LAST_DAY, NEXT_DAY)


def test_the_state_machine_still_decides_first():
    with pytest.raises(TransitionRefused):
        check_withdrawal(ApplicationStatus.WITHDRAWN, LAST_DAY, LAST_MINUTE)
