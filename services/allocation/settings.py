"""The allocation service's own settings, read from the environment (see shared/config.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shared.config import Settings, setting


@dataclass(frozen=True)
class AllocationSettings(Settings):
    # A lottery campaign is drawn as soon as registrations announces that intake drained past its close
    # (application.intake_closed); without that announcement, this long after the close at the latest.
    draw_delay: timedelta = setting("GUICHET_DRAW_DELAY_SECONDS", timedelta(minutes=5), "seconds")
    # False: a city that reviews a simulation before results go out publishes each draw itself (the
    # managers' page, POST .../allocation/publish); only the delay above still draws a forgotten campaign.
    draw_when_intake_drained: bool = setting("GUICHET_DRAW_WHEN_INTAKE_DRAINED", True, "bool")
    # Seals each campaign's lottery secret at rest (store/seed_vault.py): "key[,previous-key,…]", base64 of
    # 32 bytes each; the first seals, all open. Unset: seeds are stored in clear (a warning at start).
    lottery_seed_keys: str | None = setting("GUICHET_LOTTERY_SEED_KEY", None)
    # How long after its deadline an offered place is kept before it expires: an acceptance the
    # registrations service took a second before the deadline must reach us before the place goes.
    offer_grace: timedelta = setting("GUICHET_OFFER_GRACE_SECONDS", timedelta(minutes=5), "seconds")
    # Per client address per minute: the draw's page, and its bundle (megabytes; cached by browsers and
    # proxies with its ETag, so a verifier downloads it once). The edge limits first (docs/deploy.md).
    public_requests_per_minute: int = setting("GUICHET_PUBLIC_REQUESTS_PER_MINUTE", 600, "int")
    bundle_downloads_per_minute: int = setting("GUICHET_BUNDLE_DOWNLOADS_PER_MINUTE", 20, "int")
    # Retention (docs/privacy.md, the register of processing): enforced by `python -m services.allocation.purge`.
    application_retention: timedelta = setting("GUICHET_APPLICATION_RETENTION_SECONDS", timedelta(days=3 * 365),
                                               "seconds")  # after the campaign's close
    inbox_retention: timedelta = setting("GUICHET_INBOX_RETENTION_SECONDS", timedelta(days=60), "seconds")
    # The draws' audit trail (docs/audit.md): kept this long after the campaign is archived, as campaigns keeps its own.
    audit_retention: timedelta = setting("GUICHET_AUDIT_RETENTION_SECONDS", timedelta(days=5 * 365), "seconds")
