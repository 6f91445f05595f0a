"""Age eligibility at the campaign's reference date; the rule itself is shared with registrations and
allocation (shared.domain.ages)."""
from __future__ import annotations

from datetime import date

from services.campaigns.domain.model import Offer
from shared.domain.ages import age_on, fits_age_range

__all__ = ["age_on", "fits_age_range", "is_age_eligible"]


def is_age_eligible(offer: Offer, birth_date: date, reference_date: date) -> bool:
    return fits_age_range(birth_date, reference_date, offer.min_age, offer.max_age)
