"""The portal's own settings, read from the environment: where the four services answer, whether the
development sign-in is on, and how the session cookie is signed and sent."""
from __future__ import annotations

from dataclasses import dataclass

from shared.config import Settings, setting

# The services the portal reads and writes, by the name its pages use for them.
SERVICES = ("campaigns", "registrations", "allocation", "notifications")


@dataclass(frozen=True)
class PortalSettings(Settings):
    campaigns_url: str = setting("GUICHET_CAMPAIGNS_URL", "http://127.0.0.1:8001")
    registrations_url: str = setting("GUICHET_REGISTRATIONS_URL", "http://127.0.0.1:8002")
    allocation_url: str = setting("GUICHET_ALLOCATION_URL", "http://127.0.0.1:8003")
    notifications_url: str = setting("GUICHET_NOTIFICATIONS_URL", "http://127.0.0.1:8004")
    # GUICHET_PORTAL_DEV_SIGN_IN=1 (make run, the tests, compose): the sign-in page mints development
    # tokens. Never in production, where a key able to sign tokens must not be within a web page's reach.
    dev_sign_in: bool = setting("GUICHET_PORTAL_DEV_SIGN_IN", False, "flag")
    # Signs the session cookie; required in production (see bootstrap.session_secret).
    secret_key: str | None = setting("GUICHET_PORTAL_SECRET_KEY", None)
    # Behind HTTPS in production: the session cookie is then never sent over plain HTTP.
    secure_cookie: bool = setting("GUICHET_PORTAL_SECURE_COOKIE", False, "flag")

    def service_urls(self) -> dict[str, str]:
        """Service name → its base URL, for the API clients and the readiness checks."""
        return {name: getattr(self, f"{name}_url") for name in SERVICES}
