"""The campaigns service's own settings, read from the environment (see shared/config.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shared.config import Settings, setting


@dataclass(frozen=True)
class CampaignsSettings(Settings):
    # How long Redis keeps the public catalogue, shared by every process (each process's memory keeps it
    # about a second more); a window's opening or closing cuts it short. The Kubernetes ConfigMap sets it.
    public_cache_ttl_seconds: float = setting("PUBLIC_CACHE_TTL_SECONDS", 2.0, "float")
    # Requests to the public listing per client address per minute (a school or a CGNAT shares one address;
    # the listing is cached, so a browser asks rarely). The edge limits first (docs/deploy.md).
    public_requests_per_minute: int = setting("GUICHET_PUBLIC_REQUESTS_PER_MINUTE", 600, "int")
    # Retention (docs/privacy.md, the register of processing): enforced by `python -m services.campaigns.purge`.
    inbox_retention: timedelta = setting("GUICHET_INBOX_RETENTION_SECONDS", timedelta(days=60), "seconds")
    # A campaign's audit trail (docs/audit.md): kept this long after the campaign is archived, then purged whole.
    audit_retention: timedelta = setting("GUICHET_AUDIT_RETENTION_SECONDS", timedelta(days=5 * 365), "seconds")
