"""How to reach a family: its email address, language and wish for paper letters.

No event carries them; registrations owns the household and serves it to other services
(`GET /households/<family_account>`, role `service`). Notifications reads it when it delivers, so
a parent who corrects an address is written to at the new one, and no copy of it is kept apart
from the messages actually sent. While registrations cannot answer, delivery waits and retries.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from shared.auth import client_credentials_token
from shared.config import Settings
from shared.devtokens import issue_token

SERVICE_SUBJECT = "notifications"


@dataclass(frozen=True)
class Contact:
    email: str | None
    language: str
    postal_mail: bool
    postal_address: str | None = None  # the envelope's lines, from the household


# A family that declared no household yet (e.g. subscribed to a campaign first): its inbox only.
NO_HOUSEHOLD = Contact(email=None, language="fr", postal_mail=False)


class ContactUnavailable(Exception):
    """Registrations did not say how to reach the family (unreachable, or refused us)."""


class HouseholdContacts:
    def __init__(self, registrations_url: str, bearer: Callable[[], str], timeout_seconds: float = 5.0):
        self.registrations_url = registrations_url.rstrip("/")
        self.bearer = bearer
        self.timeout_seconds = timeout_seconds

    def contact_of(self, family_account: str) -> Contact:
        request = urllib.request.Request(
            f"{self.registrations_url}/households/{quote(family_account, safe='')}",
            headers={"Authorization": f"Bearer {self.bearer()}", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                household = json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 404 and _problem_code(error) == "household-not-found":
                return NO_HOUSEHOLD
            raise ContactUnavailable(f"registrations answered {error.code} for the household") from error
        except OSError as error:
            raise ContactUnavailable(f"registrations unreachable: {error}") from error
        return Contact(email=household.get("email"), language=household["language"],
                       postal_mail=household["postal_mail"],
                       postal_address=envelope_lines(household.get("postal_address")))


def envelope_lines(address: dict | None) -> str | None:
    """The address as printed on an envelope: street, the optional second line, postal code and city."""
    if not address:
        return None
    lines = [address["line1"], address.get("line2"), f"{address['postal_code']} {address['city'].upper()}"]
    return "\n".join(line for line in lines if line)


def _problem_code(error: urllib.error.HTTPError) -> str | None:
    # Another 404 (a wrong base URL) must not pass for "this family has no household".
    try:
        return json.load(error).get("code")
    except ValueError:
        return None


class ServiceToken:
    """The bearer token notifications shows other Guichet services (role `service`).

    With a token file (written and renewed by the platform's identity agent) the file is read at
    each use. Without one, as under `make run`, a token is signed with the local development key
    and renewed before it expires.
    """

    LIFETIME_SECONDS = 3600
    RENEW_BEFORE_SECONDS = 300

    def __init__(self, settings: Settings, token_file: Path | None):
        self.service_account = bool(settings.oidc_issuer and settings.oidc_client_id)  # client credentials
        if token_file is None and not self.service_account and not settings.jwt_private_key_file.exists():
            raise RuntimeError("no service token: set GUICHET_SERVICE_TOKEN_FILE (or create the development keys "
                               "with `make token`)")
        self.settings = settings
        self.token_file = token_file
        self._lock = threading.Lock()
        self._token, self._expires = "", 0.0

    def __call__(self) -> str:
        if self.token_file is not None:
            return self.token_file.read_text().strip()
        with self._lock:
            if self.service_account:  # the provider's tokens live minutes: renewed 30 s before they expire
                if time.time() > self._expires - 30:
                    self._token, lifetime = client_credentials_token(self.settings)
                    self._expires = time.time() + lifetime
            elif time.time() > self._expires - self.RENEW_BEFORE_SECONDS:
                self._token = issue_token(self.settings, SERVICE_SUBJECT, ["service"], self.LIFETIME_SECONDS)
                self._expires = time.time() + self.LIFETIME_SECONDS
            return self._token
