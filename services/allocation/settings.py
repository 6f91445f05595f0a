"""The allocation service's own settings, read from the environment (see shared/config.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shared.config import Settings, setting


@dataclass(frozen=True)
class AllocationSettings(Settings):
    # After a lottery campaign closes, how long the automatic draw waits for applications acknowledged
    # just before the close to come through the intake log and the ledger.
    draw_delay: timedelta = setting("GUICHET_DRAW_DELAY_SECONDS", timedelta(minutes=5), "seconds")
    # How long after its deadline an offered place is kept before it expires: an acceptance the
    # registrations service took a second before the deadline must reach us before the place goes.
    offer_grace: timedelta = setting("GUICHET_OFFER_GRACE_SECONDS", timedelta(minutes=5), "seconds")
    # Per client address per minute: the draw's page, and its bundle (megabytes; cached by browsers and
    # proxies with its ETag, so a verifier downloads it once). The edge limits first (docs/deploy.md).
    public_requests_per_minute: int = setting("GUICHET_PUBLIC_REQUESTS_PER_MINUTE", 600, "int")
    bundle_downloads_per_minute: int = setting("GUICHET_BUNDLE_DOWNLOADS_PER_MINUTE", 20, "int")
