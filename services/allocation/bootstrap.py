"""The allocation service's composition root: its parts, built once per process, for the web app and the worker."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import Engine

from services.allocation.settings import AllocationSettings
from services.allocation.store import seed_vault
from shared.clock import Clock
from shared.composition import Components
from shared.idempotency import IdempotencyStore
from shared.rate_limit import ClientBudget
from shared.runtime import Runtime


@dataclass(frozen=True)
class AllocationComponents(Components):
    extension: ClassVar[str] = "guichet.allocation"
    settings: AllocationSettings
    engine: Engine
    clock: Clock
    idempotency: IdempotencyStore
    # Per client address on /draws (shared.rate_limit): the second line behind the edge's limits.
    public_budget: ClientBudget
    bundle_budget: ClientBudget


def build_components(settings: AllocationSettings, runtime: Runtime, clock: Clock) -> AllocationComponents:
    seed_vault.install(seed_vault.SeedVault(seed_vault.parse_keys(settings.lottery_seed_keys)))
    return AllocationComponents(settings, runtime.engine, clock, IdempotencyStore(runtime.redis),
                                ClientBudget(runtime.redis, "draws", settings.public_requests_per_minute),
                                ClientBudget(runtime.redis, "draw-bundles", settings.bundle_downloads_per_minute))
