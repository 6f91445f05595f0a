"""The public catalogue: published campaigns that are scheduled or open, with their offers and
places remaining, built once from the database in the form the public API answers (`render`, given
by the view that reads it) and filtered per request from the cache."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine

from services.campaigns.domain import CampaignStatus, fits_age_range, status_at
from services.campaigns.store.cache import CachedDocument, LayeredCache
from services.campaigns.store.repository import StoredCampaign, get_campaign, published_campaigns_closing_after
from shared.clock import Clock

CACHE_KEY = "campaigns:public-catalogue"
VISIBLE = (CampaignStatus.SCHEDULED, CampaignStatus.OPEN)

# The visible campaigns at an instant as the JSON-ready document the public API answers.
Render = Callable[[Sequence[StoredCampaign], datetime], Any]


class PublicCatalogue:
    def __init__(self, engine: Engine, cache: LayeredCache, clock: Clock, ttl_seconds: float):
        self.engine = engine
        self.cache = cache
        self.clock = clock
        self.ttl = timedelta(seconds=ttl_seconds)

    def read(self, render: Render) -> CachedDocument:
        """The cached document; `render` runs only when it is rebuilt from the database, not when a copy answers."""
        return self.cache.get(partial(self._build, render))

    def max_age_seconds(self, document: CachedDocument) -> int:
        """How long a browser or proxy may reuse an answer built from `document`."""
        return max(0, math.floor((document.valid_until - self.clock()).total_seconds()))

    def invalidate(self) -> None:
        self.cache.invalidate()

    def published_campaign(self, campaign_id: str) -> StoredCampaign | None:
        """One published campaign, whatever its status now: a family follows the campaigns it applied to
        after they leave the listing. None for a draft or an unknown id."""
        with self.engine.connect() as connection:
            stored = get_campaign(connection, campaign_id)
        if stored is None or stored.campaign.published_at is None:
            return None
        return stored

    def _build(self, render: Render, now: datetime) -> CachedDocument:
        with self.engine.connect() as connection:
            candidates = published_campaigns_closing_after(connection, now)
        visible = [stored for stored in candidates if status_at(stored.campaign, now) in VISIBLE]
        # Valid until the next opening or closing at the latest, so a status is never stale.
        upcoming = [instant for stored in visible
                    for instant in (stored.campaign.opens_at, stored.campaign.effective_closes_at) if instant > now]
        body = render(visible, now)
        return CachedDocument(body, valid_until=min([now + self.ttl, *upcoming]))


def matching_campaigns(catalogue: list[dict[str, Any]], *, kind: str | None = None, arrondissement: int | None = None,
                       age: int | None = None, birth_date: date | None = None) -> list[dict[str, Any]]:
    """Campaigns with the offers that match every filter given; campaigns left without offers are dropped."""
    matching = []
    for campaign in catalogue:
        if kind is not None and campaign["kind"] != kind:
            continue
        reference_date = date.fromisoformat(campaign["reference_date"])
        offers = [
            offer for offer in campaign["offers"]
            if (arrondissement is None or offer["arrondissement"] == arrondissement)
            and (age is None or offer["min_age"] <= age <= offer["max_age"])
            and (birth_date is None or fits_age_range(birth_date, reference_date, offer["min_age"], offer["max_age"]))
        ]
        if offers:
            matching.append({**campaign, "offers": offers})
    return matching

