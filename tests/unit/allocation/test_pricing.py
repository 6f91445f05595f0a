"""The tranche a billing line is priced at once agents validate quotient tranches (issue 16)."""
from datetime import UTC, date, datetime

import pytest

from services.allocation.domain.pricing import ValidatedTranche, billed_tranche

FEB_20, FEB_21 = datetime(2026, 2, 20, tzinfo=UTC), datetime(2026, 2, 21, tzinfo=UTC)
FROM_MID_MARCH = ValidatedTranche(2, date(2026, 3, 15), FEB_20)


@pytest.mark.parametrize("period_start, expected", [
    (date(2026, 2, 27), 5),  # an earlier month: as declared
    (date(2026, 3, 2), 2),  # the effective date's month, even before the day itself
    (date(2026, 7, 6), 2),
])
def test_a_validated_tranche_prices_the_lines_from_its_effective_month(period_start, expected):
    assert billed_tranche(5, period_start, [FROM_MID_MARCH]) == expected


def test_the_latest_effective_validation_in_force_wins_and_none_declared_is_tranche_10():
    from_may = ValidatedTranche(6, date(2026, 5, 1), FEB_20)
    assert [billed_tranche(None, day, [from_may, FROM_MID_MARCH])
            for day in (date(2026, 2, 2), date(2026, 4, 6), date(2026, 5, 4))] == [10, 2, 6]


def test_the_order_validations_are_read_in_never_matters():
    same_day = [ValidatedTranche(4, date(2026, 3, 1), FEB_21), ValidatedTranche(1, date(2026, 3, 1), FEB_20)]
    assert billed_tranche(5, date(2026, 3, 2), same_day) == billed_tranche(5, date(2026, 3, 2), same_day[::-1]) == 4
    same_instant = [ValidatedTranche(3, date(2026, 3, 1), FEB_20), ValidatedTranche(7, date(2026, 3, 1), FEB_20)]
    assert billed_tranche(5, date(2026, 3, 2), same_instant) == billed_tranche(5, date(2026, 3, 2),
                                                                               same_instant[::-1])
    with pytest.raises(ValueError):
        ValidatedTranche(11, date(2026, 3, 1), FEB_20)
