"""The portal's composition root: its settings, its clock and one API client per service, built once
per process; the pages reach them with `PortalComponents.current()`."""
from __future__ import annotations

import hashlib
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
                            clients={name: ServiceClient(name, url) for name, url in settings.service_urls().items()})


def session_secret(settings: PortalSettings) -> str:
    """GUICHET_PORTAL_SECRET_KEY in production; with the development sign-in, one derived from the
    development signing key, so every gunicorn worker (and a restart) reads the same session cookies."""
    if settings.secret_key:
        return settings.secret_key
    if not settings.dev_sign_in:
        raise RuntimeError("set GUICHET_PORTAL_SECRET_KEY (or GUICHET_PORTAL_DEV_SIGN_IN=1 on a developer's machine)")
    return hashlib.sha256(b"guichet-portal-session:" + settings.jwt_private_key_file.read_bytes()).hexdigest()
