"""The portal's own settings, read from the environment: where the four services answer, the OpenID Connect
client it signs people in with, and how its session is kept and its cookie sent."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shared.config import Settings, setting
from shared.formatting import DEFAULT_HELP_CHANNEL

# The services the portal reads and writes, by the name its pages use for them.
SERVICES = ("campaigns", "registrations", "allocation", "notifications")
# Registrations' waiting room: a campaign's room, a family's place in it (joins and polls), its managers' live view.
WAITING_ROOM_PATHS = "/waiting-rooms/"


@dataclass(frozen=True)
class PortalSettings(Settings):
    campaigns_url: str = setting("GUICHET_CAMPAIGNS_URL", "http://127.0.0.1:8001")
    registrations_url: str = setting("GUICHET_REGISTRATIONS_URL", "http://127.0.0.1:8002")
    allocation_url: str = setting("GUICHET_ALLOCATION_URL", "http://127.0.0.1:8003")
    notifications_url: str = setting("GUICHET_NOTIFICATIONS_URL", "http://127.0.0.1:8004")
    # The portal's registration at the provider named by OIDC_ISSUER (a confidential client: authorization
    # code + PKCE). The secret comes from a Secret in production; `make run` passes the local realm's.
    oidc_client_id: str = setting("GUICHET_PORTAL_OIDC_CLIENT_ID", "portal")
    oidc_client_secret: str | None = setting("GUICHET_PORTAL_OIDC_CLIENT_SECRET", None)
    # Signs the session cookie (which carries only a random session id; the session lives in Redis). Required.
    secret_key: str | None = setting("GUICHET_PORTAL_SECRET_KEY", None)
    # A session nobody used for this long is forgotten (the provider's own session may last longer).
    session_idle: timedelta = setting("GUICHET_PORTAL_SESSION_IDLE", timedelta(hours=1), "seconds")
    # The cookie is Secure whenever the portal is reached under another name than localhost/127.0.0.1; this
    # forces it everywhere (production, behind HTTPS).
    secure_cookie: bool = setting("GUICHET_PORTAL_SECURE_COOKIE", False, "flag")
    # The city's help channel in every page's footer (notifications ends every message with the same).
    help_phone: str = setting("GUICHET_HELP_PHONE", DEFAULT_HELP_CHANNEL.phone)
    contact_form_url: str = setting("GUICHET_CONTACT_FORM_URL", DEFAULT_HELP_CHANNEL.form_url)

    # Where families follow a campaign's public draw record (allocation's `GET /draws/{campaign}`), as the
    # public reaches it; unset: GUICHET_ALLOCATION_URL's.
    public_draws_url: str | None = setting("GUICHET_PUBLIC_DRAWS_URL", None)
    # Where the waiting room's joins and polls go (registrations' `/waiting-rooms/…`): registrations' processes of
    # their own, so the room's crowd never queues the admitted families' submissions
    # (docs/deploy.md#the-waiting-rooms-own-processes); unset: GUICHET_REGISTRATIONS_URL's (one registrations tier).
    waiting_room_url: str | None = setting("GUICHET_WAITING_ROOM_URL", None)

    def draw_record_url(self, campaign_id: str) -> str:
        return f"{(self.public_draws_url or self.allocation_url + '/draws').rstrip('/')}/{campaign_id}"

    def path_urls(self, service: str) -> dict[str, str]:
        """Path prefix → the base URL that serves it instead of `service`'s own (the waiting room's processes)."""
        if service == "registrations" and self.waiting_room_url:
            return {WAITING_ROOM_PATHS: self.waiting_room_url}
        return {}

    def service_urls(self) -> dict[str, str]:
        """Service name → its base URL, for the API clients and the readiness checks."""
        return {name: getattr(self, f"{name}_url") for name in SERVICES}
