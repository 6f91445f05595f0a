"""Settings only notifications reads, from `GUICHET_*` variables (`Settings.extra`); each has a
local default that matches `make run`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.config import Settings

# `none`: plain SMTP, as a local relay or `make run`'s aiosmtpd; `starttls`: upgraded on the submission
# port (587, or 25); `tls`: TLS from the first byte (implicit TLS, port 465).
SMTP_SECURITY = ("none", "starttls", "tls")


@dataclass(frozen=True)
class NotificationsConfig:
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_security: str = "none"
    smtp_username: str | None = None
    # A file (a mounted Secret), never the password itself: environment variables end up in process
    # listings, crash reports and `kubectl describe`.
    smtp_password_file: Path | None = None
    smtp_ca_file: Path | None = None  # None: the system's trusted CAs
    sender: str = "Ville de Paris — inscriptions <ne-pas-repondre@guichet.local>"
    # Where households are read (the registrations service) and where links in messages point.
    registrations_url: str = "http://127.0.0.1:8002"
    portal_url: str = "http://127.0.0.1:8005"  # the portal under `make run`
    # A bearer token the platform keeps fresh for this service; without one, a development token is
    # signed with the local key, as `make token ROLE=service` does.
    service_token_file: Path | None = None

    def __post_init__(self) -> None:
        # Refused at start, so that a wrong setting stops the worker instead of failing every email for two hours.
        if self.smtp_security not in SMTP_SECURITY:
            raise ValueError(f"GUICHET_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, "
                             f"not {self.smtp_security!r}")
        if self.smtp_username and self.smtp_security == "none":
            raise ValueError("GUICHET_SMTP_USERNAME needs GUICHET_SMTP_SECURITY=starttls or tls: "
                             "the password would cross the network in clear")
        if self.smtp_username and self.smtp_password_file is None:
            raise ValueError("GUICHET_SMTP_USERNAME needs GUICHET_SMTP_PASSWORD_FILE")

    @classmethod
    def from_settings(cls, settings: Settings) -> "NotificationsConfig":
        extra, defaults = settings.extra, cls()
        token_file = extra.get("GUICHET_SERVICE_TOKEN_FILE")
        password_file = extra.get("GUICHET_SMTP_PASSWORD_FILE")
        ca_file = extra.get("GUICHET_SMTP_CA_FILE")
        return cls(
            smtp_host=extra.get("GUICHET_SMTP_HOST", defaults.smtp_host),
            smtp_port=int(extra.get("GUICHET_SMTP_PORT", defaults.smtp_port)),
            smtp_security=extra.get("GUICHET_SMTP_SECURITY", defaults.smtp_security).strip().lower(),
            # Empty counts as unset: a ConfigMap may carry the key with no value.
            smtp_username=extra.get("GUICHET_SMTP_USERNAME") or None,
            smtp_password_file=Path(password_file) if password_file else None,
            smtp_ca_file=Path(ca_file) if ca_file else None,
            sender=extra.get("GUICHET_MAIL_FROM", defaults.sender),
            registrations_url=extra.get("GUICHET_REGISTRATIONS_URL", defaults.registrations_url),
            portal_url=extra.get("GUICHET_PORTAL_URL", defaults.portal_url),
            service_token_file=Path(token_file) if token_file else None,
        )
