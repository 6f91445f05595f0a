"""The notifications service's own settings, read from `GUICHET_*` variables (see shared/config.py); each
has a local default that matches `make run`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from shared.config import Settings, setting
from shared.formatting import DEFAULT_HELP_CHANNEL, HelpChannel

# `none`: plain SMTP, as a local relay or `make run`'s aiosmtpd; `starttls`: upgraded on the submission
# port (587, or 25); `tls`: TLS from the first byte (implicit TLS, port 465).
SMTP_SECURITY = ("none", "starttls", "tls")


@dataclass(frozen=True)
class NotificationsSettings(Settings):
    smtp_host: str = setting("GUICHET_SMTP_HOST", "127.0.0.1")
    smtp_port: int = setting("GUICHET_SMTP_PORT", 1025, "int")
    smtp_security: str = setting("GUICHET_SMTP_SECURITY", "none")
    smtp_username: str | None = setting("GUICHET_SMTP_USERNAME", None)
    # A file (a mounted Secret), never the password itself: environment variables end up in process
    # listings, crash reports and `kubectl describe`.
    smtp_password_file: Path | None = setting("GUICHET_SMTP_PASSWORD_FILE", None, "path")
    smtp_ca_file: Path | None = setting("GUICHET_SMTP_CA_FILE", None, "path")  # None: the system's trusted CAs
    sender: str = setting("GUICHET_MAIL_FROM", "Ville de Paris — inscriptions <ne-pas-repondre@guichet.local>")
    # Where households are read (the registrations service) and where links in messages point.
    registrations_url: str = setting("GUICHET_REGISTRATIONS_URL", "http://127.0.0.1:8002")
    portal_url: str = setting("GUICHET_PORTAL_URL", "http://127.0.0.1:8005")  # the portal under `make run`
    # The city's help channel at the end of every message (the portal's footer names the same).
    help_phone: str = setting("GUICHET_HELP_PHONE", DEFAULT_HELP_CHANNEL.phone)
    contact_form_url: str = setting("GUICHET_CONTACT_FORM_URL", DEFAULT_HELP_CHANNEL.form_url)
    # A bearer token the platform keeps fresh for this service; without one, a development token is
    # signed with the local key, as `make token ROLE=service` does.
    service_token_file: Path | None = setting("GUICHET_SERVICE_TOKEN_FILE", None, "path")
    # Retention (docs/privacy.md, the register of processing): enforced by `python -m services.notifications.purge`.
    message_retention: timedelta = setting("GUICHET_MESSAGE_RETENTION_SECONDS", timedelta(days=365),
                                           "seconds")  # inbox messages and email logs, after they were written
    application_retention: timedelta = setting("GUICHET_APPLICATION_RETENTION_SECONDS", timedelta(days=3 * 365),
                                               "seconds")  # the children's names, after the campaign opened
    inbox_retention: timedelta = setting("GUICHET_INBOX_RETENTION_SECONDS", timedelta(days=60), "seconds")
    # A family's audit chain (docs/audit.md): kept this long after a manager last acted for it, then purged whole.
    audit_retention: timedelta = setting("GUICHET_AUDIT_RETENTION_SECONDS", timedelta(days=5 * 365), "seconds")

    @property
    def help_channel(self) -> HelpChannel:
        return HelpChannel(self.help_phone, self.contact_form_url)

    def __post_init__(self) -> None:
        # Written by hand in any case ("TLS", " starttls"): compared in lower case.
        object.__setattr__(self, "smtp_security", self.smtp_security.strip().lower())
        # Refused at start, so that a wrong setting stops the worker instead of failing every email for two hours.
        if self.smtp_security not in SMTP_SECURITY:
            raise ValueError(f"GUICHET_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, "
                             f"not {self.smtp_security!r}")
        if self.smtp_username and self.smtp_security == "none":
            raise ValueError("GUICHET_SMTP_USERNAME needs GUICHET_SMTP_SECURITY=starttls or tls: "
                             "the password would cross the network in clear")
        if self.smtp_username and self.smtp_password_file is None:
            raise ValueError("GUICHET_SMTP_USERNAME needs GUICHET_SMTP_PASSWORD_FILE")
