"""Campaigns and their offers: frozen values that manager actions replace, never mutate.

Fields are flat and typed with what a table column or a JSON schema maps directly:
str ids (UUID text), aware UTC datetimes, dates, ints (money in cents), StrEnums, tuples.
Names follow the `campaign.*` event contract (shared/contracts/campaigns.py) except the ids,
which the snapshot calls `campaign_id` and `offer_id`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from services.campaigns.domain.policy import AllocationPolicy
from services.campaigns.domain.tariffs import TariffGrid
from services.campaigns.domain.waiting_room import DEFAULT_ADMISSIONS_PER_MINUTE, DEFAULT_OPENS_BEFORE_MINUTES


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
    # Lifecycle terms (docs/campaigns.md#lifecycle): waitlists stop promoting after waitlist_closes_at
    # (None: until each offer's acceptance cut-off); a confirmed place is given up for a full credit
    # until free_withdrawal_until (None: until the activity starts), then for a credit less
    # late_withdrawal_fee_cents (None: no credit at all); never once the activity has ended.
    waitlist_closes_at: datetime | None = None
    free_withdrawal_until: datetime | None = None
    late_withdrawal_fee_cents: int | None = None
    # Four eyes (docs/campaigns.md#scoped-managers-and-four-eyes): a draw's results are published only once a
    # second manager approves the publication another one asked for.
    publication_needs_second_manager: bool = True
    # The waiting room in front of intake (domain/waiting_room.py): None = on for first-come campaigns only.
    waiting_room: bool | None = None
    waiting_room_opens_before_minutes: int = DEFAULT_OPENS_BEFORE_MINUTES
    waiting_room_admissions_per_minute: int = DEFAULT_ADMISSIONS_PER_MINUTE
    # Status is derived from these instants and the window (see status.status_at), never stored.
    published_at: datetime | None = None
    closed_early_at: datetime | None = None
    allocated_at: datetime | None = None
    archived_at: datetime | None = None
    cloned_from_id: str | None = None

    @property
    def effective_closes_at(self) -> datetime:
        """The instant the window closes (exclusive): the end of the minute `closes_at` names, or the
        earlier instant a manager closed the window at."""
        planned = window_end(self.closes_at)
        if self.closed_early_at is not None and self.closed_early_at < planned:
            return self.closed_early_at
        return planned

    def offer(self, offer_id: str) -> Offer | None:
        return next((offer for offer in self.offers if offer.id == offer_id), None)


ONE_MINUTE = timedelta(minutes=1)


def window_end(closes_at: datetime) -> datetime:
    """Closes are inclusive to the minute: "jusqu'au 23 février 23h59" accepts every instant of
    23:59, so the window closes at 00:00:00 (the minute `closes_at` names, plus one minute; seconds
    given in `closes_at` do not shorten that minute)."""
    return closes_at.replace(second=0, microsecond=0) + ONE_MINUTE
