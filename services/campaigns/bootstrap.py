"""Wires the campaigns service's parts once per process; views find them through `components()`."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from services.campaigns.cache import LayeredCache
from services.campaigns.campaign_service import CampaignService
from shared.clock import Clock
from services.campaigns.public_listing import CACHE_KEY, PublicCatalogue
from shared.idempotency import IdempotencyStore
from shared.runtime import Runtime

EXTENSION = "guichet.campaigns"


@dataclass(frozen=True)
class Components:
    service: CampaignService
    catalogue: PublicCatalogue
    idempotency: IdempotencyStore


def build_components(runtime: Runtime, clock: Clock) -> Components:
    cache = LayeredCache(runtime.redis, CACHE_KEY, clock=clock)
    catalogue = PublicCatalogue(runtime.engine, cache, clock, ttl_seconds=runtime.settings.public_cache_ttl_seconds)
    return Components(
        service=CampaignService(runtime.engine, clock, on_change=catalogue.invalidate),
        catalogue=catalogue,
        idempotency=IdempotencyStore(runtime.redis),
    )


def components() -> Components:
    return current_app.extensions[EXTENSION]
