"""What a manager's request can run into besides a broken rule (`shared.domain.violations.RuleViolation`):
the campaign or offer it names does not exist, or another write changed the campaign since it was read.
The web layer says which problem response each one is (`web/errors.py`)."""
from __future__ import annotations


class CampaignNotFound(LookupError):
    def __init__(self, campaign_id: str):
        super().__init__(f"There is no campaign {campaign_id}.")
        self.campaign_id = campaign_id


class OfferNotFound(LookupError):
    """An offer named in the request (its URL) that the campaign does not have."""

    def __init__(self, offer_id: str):
        super().__init__(f"The campaign has no offer {offer_id}.")
        self.offer_id = offer_id


class StaleVersion(Exception):
    """Optimistic concurrency: a write was computed from `expected`, but the campaign is at `current`."""

    def __init__(self, expected: int, current: int):
        super().__init__(f"You edited version {expected}; the campaign is at version {current}. "
                         "Read it again, then retry.")
        self.expected = expected
        self.current = current
