"""The portal's composition root: its settings, its clock and one API client per service, built once
per process; the pages reach them with `PortalComponents.current()`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from services.portal.client.api import ServiceClient
from services.portal.settings import PortalSettings
from shared.clock import Clock, utc_now
from shared.composition import Components


@dataclass(frozen=True)
class PortalComponents(Components):
    extension: ClassVar[str] = "guichet.portal"

    settings: PortalSettings
    clock: Clock
    clients: dict[str, ServiceClient]

    def client(self, name: str, bearer: str | None) -> ServiceClient:
        """The named service's API, carrying the signed-in person's token."""
        return self.clients[name].with_bearer(bearer)


def build_components(settings: PortalSettings, clock: Clock = utc_now) -> PortalComponents:
    return PortalComponents(settings=settings, clock=clock,
                            clients={name: ServiceClient(name, url, path_urls=settings.path_urls(name))
                                     for name, url in settings.service_urls().items()})


def session_secret(settings: PortalSettings) -> str:
    """GUICHET_PORTAL_SECRET_KEY signs the session cookie (the same for every process: a long random value)."""
    if not settings.secret_key:
        raise RuntimeError("set GUICHET_PORTAL_SECRET_KEY (a long random value; `make run` makes one in .local/)")
    if not settings.oidc_issuer:
        raise RuntimeError("set OIDC_ISSUER: the portal signs people in through the city's OpenID Connect provider")
    return settings.secret_key
