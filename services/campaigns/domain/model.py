"""Campaigns and their offers: frozen values that manager actions replace, never mutate.

Fields are flat and typed with what a table column or a JSON schema maps directly:
str ids (UUID text), aware UTC datetimes, dates, ints (money in cents), StrEnums, tuples.
Names follow the `campaign.*` event contract (shared/contracts/campaigns.py) except the ids,
which the snapshot calls `campaign_id` and `offer_id`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from services.campaigns.domain.policy import AllocationPolicy
from services.campaigns.domain.tariffs import TariffGrid


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    ALLOCATED = "allocated"
    ARCHIVED = "archived"


@dataclass(frozen=True)
class Offer:
    id: str
    title: str
    site: str
    arrondissement: int
    starts_on: date
    ends_on: date
    min_age: int
    max_age: int
    capacity: int
    waitlist_limit: int | None  # None: no limit
    tariffs_cents: TariffGrid


@dataclass(frozen=True)
class Campaign:
    id: str
    title: str
    kind: str
    description: str
    opens_at: datetime
    closes_at: datetime
    reference_date: date  # children's ages are counted on this date
    max_choices: int  # ranked choices per child
    policy: AllocationPolicy
    offers: tuple[Offer, ...] = ()
    # Status is derived from these instants and the window (see status.status_at), never stored.
    published_at: datetime | None = None
    closed_early_at: datetime | None = None
    allocated_at: datetime | None = None
    archived_at: datetime | None = None
    cloned_from_id: str | None = None

    @property
    def effective_closes_at(self) -> datetime:
        """The planned close, or the earlier instant a manager closed the window at."""
        if self.closed_early_at is not None and self.closed_early_at < self.closes_at:
            return self.closed_early_at
        return self.closes_at

    def offer(self, offer_id: str) -> Offer | None:
        return next((offer for offer in self.offers if offer.id == offer_id), None)
