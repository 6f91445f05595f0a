"""The campaigns service's composition root: its parts, built once per process, for the web app, the
worker and the demo loader."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import Engine

from services.campaigns.settings import CampaignsSettings
from services.campaigns.store.cache import LayeredCache
from services.campaigns.usecases.public_catalogue import CACHE_KEY, PublicCatalogue
from services.campaigns.usecases.writing import CampaignWriter
from shared.clock import Clock
from shared.composition import Components
from shared.idempotency import IdempotencyStore
from shared.rate_limit import ClientBudget
from shared.runtime import Runtime


@dataclass(frozen=True)
class CampaignsComponents(Components):
    extension: ClassVar[str] = "guichet.campaigns"
    settings: CampaignsSettings
    engine: Engine
    clock: Clock
    writer: CampaignWriter
    catalogue: PublicCatalogue
    idempotency: IdempotencyStore
    # Per client address on /public (shared.rate_limit): the second line behind the edge's limits.
    public_budget: ClientBudget


def build_components(settings: CampaignsSettings, runtime: Runtime, clock: Clock) -> CampaignsComponents:
    cache = LayeredCache(runtime.redis, CACHE_KEY, clock=clock)
    catalogue = PublicCatalogue(runtime.engine, cache, clock, ttl_seconds=settings.public_cache_ttl_seconds)
    return CampaignsComponents(
        settings=settings,
        engine=runtime.engine,
        clock=clock,
        # Every committed change drops the public catalogue's cached copy.
        writer=CampaignWriter(runtime.engine, clock, on_change=catalogue.invalidate),
        catalogue=catalogue,
        idempotency=IdempotencyStore(runtime.redis),
        public_budget=ClientBudget(runtime.redis, "campaigns-public", settings.public_requests_per_minute),
    )
