"""Settings only notifications reads, from `GUICHET_*` variables (`Settings.extra`); each has a
local default that matches `make run`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.config import Settings


@dataclass(frozen=True)
class NotificationsConfig:
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    sender: str = "Ville de Paris — inscriptions <ne-pas-repondre@guichet.local>"
    # Where households are read (the registrations service) and where links in messages point.
    registrations_url: str = "http://127.0.0.1:8002"
    portal_url: str = "http://127.0.0.1:8005"  # the portal under `make run`
    # A bearer token the platform keeps fresh for this service; without one, a development token is
    # signed with the local key, as `make token ROLE=service` does.
    service_token_file: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "NotificationsConfig":
        extra, defaults = settings.extra, cls()
        token_file = extra.get("GUICHET_SERVICE_TOKEN_FILE")
        return cls(
            smtp_host=extra.get("GUICHET_SMTP_HOST", defaults.smtp_host),
            smtp_port=int(extra.get("GUICHET_SMTP_PORT", defaults.smtp_port)),
            sender=extra.get("GUICHET_MAIL_FROM", defaults.sender),
            registrations_url=extra.get("GUICHET_REGISTRATIONS_URL", defaults.registrations_url),
            portal_url=extra.get("GUICHET_PORTAL_URL", defaults.portal_url),
            service_token_file=Path(token_file) if token_file else None,
        )
