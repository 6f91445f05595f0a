"""Age at a campaign's reference date: one rule for campaigns, registrations and allocation."""
from __future__ import annotations

from datetime import date


def age_on(birth_date: date, on: date) -> int:
    """Completed years on `on`. A child born on 29 February turns a year older on 1 March in
    common years: on 28 February it has not yet completed the year."""
    birthday_not_reached = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - birthday_not_reached


def fits_age_range(birth_date: date, reference_date: date, min_age: int, max_age: int) -> bool:
    """Both bounds inclusive: a 7–17 offer takes a child from its 7th birthday to the eve of its 18th."""
    return min_age <= age_on(birth_date, reference_date) <= max_age
