from datetime import date

import pytest

from services.campaigns.domain import (
    NO_QUOTIENT_TRANCHE,
    RuleViolation,
    age_on,
    fits_age_range,
    flat_tariff,
    is_age_eligible,
    price_for,
)
from tests.support.campaign_builders import GRID, an_offer


@pytest.mark.parametrize("tranche, cents", [(1, 100), (5, 500), (10, 1000), (None, 1000)])
def test_price_by_tranche_and_full_price_without_quotient(tranche, cents):
    assert price_for(GRID, tranche) == cents
    assert isinstance(price_for(GRID, tranche), int)


def test_no_quotient_means_tranche_10():
    assert NO_QUOTIENT_TRANCHE == 10


@pytest.mark.parametrize("tranche", [0, 11, True, 2.0])
def test_unknown_tranche_is_refused(tranche):
    with pytest.raises(RuleViolation) as raised:
        price_for(GRID, tranche)
    assert [(v.code, v.field) for v in raised.value.violations] == [("tariff.unknown_tranche", "quotient_tranche")]


def test_flat_tariff_has_ten_equal_tranches():
    assert flat_tariff(1000) == (1000,) * 10


@pytest.mark.parametrize("birth, on, age", [
    (date(2019, 3, 2), date(2026, 3, 2), 7),        # birthday today
    (date(2019, 3, 3), date(2026, 3, 2), 6),        # birthday tomorrow
    (date(2019, 3, 1), date(2026, 3, 2), 7),
    (date(2016, 2, 29), date(2026, 2, 28), 9),      # leapling, common year: not yet
    (date(2016, 2, 29), date(2026, 3, 1), 10),      # ... reached on 1 March
    (date(2016, 2, 29), date(2028, 2, 29), 12),     # leap year: on the day
    (date(2016, 2, 29), date(2028, 2, 28), 11),
    (date(2015, 12, 31), date(2026, 12, 31), 11),
    (date(2016, 1, 1), date(2026, 12, 31), 10),
    (date(2026, 3, 3), date(2026, 3, 2), -1),       # not born yet
])
def test_age_in_completed_years(birth, on, age):
    assert age_on(birth, on) == age


def test_age_range_bounds_are_inclusive():
    reference = date(2026, 3, 2)
    assert fits_age_range(date(2019, 3, 2), reference, 7, 17)       # 7 today
    assert not fits_age_range(date(2019, 3, 3), reference, 7, 17)   # 7 tomorrow
    assert fits_age_range(date(2008, 3, 3), reference, 7, 17)       # 18 tomorrow
    assert not fits_age_range(date(2008, 3, 2), reference, 7, 17)   # 18 today


def test_eligibility_for_an_offer_uses_the_campaign_reference_date():
    offer = an_offer(min_age=10, max_age=17)
    leapling = date(2016, 2, 29)
    assert not is_age_eligible(offer, leapling, date(2026, 2, 28))
    assert is_age_eligible(offer, leapling, date(2026, 3, 1))
