"""The tests' hold on the OpenID Connect provider (Keycloak, `guichet` realm): accounts made through its admin
REST API, tokens from its token endpoint, and the realm's signing keys rotated in the running server."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

REALM = "guichet"
CLI_CLIENT = "guichet-cli"  # public, password grant: this local realm only
PORTAL_CLIENT, PORTAL_SECRET = "portal", "guichet-portal-local-secret"
NOTIFICATIONS_CLIENT, NOTIFICATIONS_SECRET = "notifications", "guichet-notifications-local-secret"
TIMEOUT = 10


@dataclass(frozen=True)
class Provider:
    issuer: str
    admin_username: str
    admin_password: str

    @property
    def base_url(self) -> str:
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token"

    def realm_issuer(self, realm: str) -> str:
        return f"{self.base_url}/realms/{realm}"

    def admin(self) -> KeycloakAdmin:
        return KeycloakAdmin(self)

    def password_token(self, username: str, password: str, client_id: str = CLI_CLIENT, realm: str = REALM) -> str:
        answer = requests.post(f"{self.realm_issuer(realm)}/protocol/openid-connect/token", timeout=TIMEOUT, data={
            "grant_type": "password", "client_id": client_id, "username": username, "password": password,
            "scope": "openid"})
        answer.raise_for_status()
        return answer.json()["access_token"]

    def client_token(self, client_id: str, secret: str) -> str:
        answer = requests.post(self.token_endpoint, timeout=TIMEOUT, data={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
        answer.raise_for_status()
        return answer.json()["access_token"]


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    subject: str  # the provider's `sub`: the family account for a parent


class KeycloakAdmin:
    """The realm's admin REST API, with a token of the master realm's administrator."""

    def __init__(self, provider: Provider):
        self.provider = provider
        self.api = f"{provider.base_url}/admin/realms/{REALM}"
        self.session = requests.Session()
        answer = self.session.post(f"{provider.realm_issuer('master')}/protocol/openid-connect/token", timeout=TIMEOUT,
                                   data={"grant_type": "password", "client_id": "admin-cli",
                                         "username": provider.admin_username, "password": provider.admin_password})
        answer.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        answer = self.session.request(method, self.api + path, timeout=TIMEOUT, **kwargs)
        answer.raise_for_status()
        return answer

    def create_account(self, role: str | None, username: str | None = None) -> Account:
        """A new user with a password and (unless None) one realm role; returns its subject."""
        username = username or f"{role or 'nobody'}-{uuid.uuid4().hex[:8]}"
        password = uuid.uuid4().hex
        created = self._call("POST", "/users", json={
            "username": username, "enabled": True, "email": f"{username}@example.org", "emailVerified": True,
            "firstName": "Test", "lastName": username.split("-")[0].capitalize(),
            "credentials": [{"type": "password", "value": password, "temporary": False}]})
        subject = created.headers["Location"].rsplit("/", 1)[1]
        if role:
            role_representation = self._call("GET", f"/roles/{role}").json()
            self._call("POST", f"/users/{subject}/role-mappings/realm", json=[role_representation])
        return Account(username, password, subject)

    def sessions_of(self, subject: str) -> list[dict]:
        return self._call("GET", f"/users/{subject}/sessions").json()

    def create_client(self, client_id: str, **representation) -> None:
        self._call("POST", "/clients", json={"clientId": client_id, "enabled": True, "protocol": "openid-connect",
                                             **representation})

    # -- signing keys ------------------------------------------------------------------------------------

    def active_rsa_kid(self) -> str:
        keys = self._call("GET", "/keys").json()
        return keys["active"]["RS256"]

    def rsa_key_providers(self) -> dict[str, str]:
        """kid → id of the component (key provider) holding it."""
        keys = self._call("GET", "/keys").json()["keys"]
        return {key["kid"]: key["providerId"] for key in keys if key.get("algorithm") == "RS256"}

    def add_rsa_key(self, priority: int) -> str:
        """A new generated RSA key provider; with the highest priority it signs new tokens. Returns its kid."""
        before = set(self.rsa_key_providers())
        realm_id = self._call("GET", "").json()["id"]
        self._call("POST", "/components", json={
            "name": f"rsa-rotated-{uuid.uuid4().hex[:6]}", "providerId": "rsa-generated", "parentId": realm_id,
            "providerType": "org.keycloak.keys.KeyProvider",
            "config": {"priority": [str(priority)], "enabled": ["true"], "active": ["true"], "keySize": ["2048"],
                       "algorithm": ["RS256"]}})
        (kid,) = set(self.rsa_key_providers()) - before
        return kid

    def remove_key(self, kid: str) -> None:
        self._call("DELETE", f"/components/{self.rsa_key_providers()[kid]}")
