"""The allocation service's own settings, read from the GUICHET_* environment (Settings.extra)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shared.config import Settings


@dataclass(frozen=True)
class AllocationOptions:
    # After a lottery campaign closes, how long the automatic draw waits for applications acknowledged
    # just before the close to come through the intake log and the ledger.
    draw_delay: timedelta = timedelta(minutes=5)
    # How long after its deadline an offered place is kept before it expires: an acceptance the
    # registrations service took a second before the deadline must reach us before the place goes.
    offer_grace: timedelta = timedelta(minutes=5)

    @classmethod
    def from_settings(cls, settings: Settings) -> AllocationOptions:
        defaults = cls()

        def seconds(name: str, default: timedelta) -> timedelta:
            raw = settings.extra.get(name)
            return default if raw in (None, "") else timedelta(seconds=float(raw))

        return cls(draw_delay=seconds("GUICHET_DRAW_DELAY_SECONDS", defaults.draw_delay),
                   offer_grace=seconds("GUICHET_OFFER_GRACE_SECONDS", defaults.offer_grace))
