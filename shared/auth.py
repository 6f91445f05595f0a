"""Bearer tokens as the city's OpenID Connect provider ("Mon Paris"; Keycloak locally) issues them: RS256 JWTs.

Two verifiers, one contract (`verify(token) -> Principal`, 401 otherwise):
- `ProviderTokenVerifier` (every deployed service, `make run`, the tests of sign-in): the provider's keys read from
  its discovery document and JWKS, cached, re-read every `OIDC_JWKS_MAX_AGE` (a removed key is refused within it)
  and on an unknown `kid` at most once per `OIDC_JWKS_MIN_REFRESH` (a flood of forged tokens cannot hammer the
  provider); roles read at a claim path (`realm_access.roles` for Keycloak) and renamed through a mapping.
- `TokenVerifier`: one static public key file, for the provider-less tests that mint their own tokens
  (shared.devtokens); never chosen when OIDC_ISSUER is set, which production requires.

Only RS256 is accepted (no `none`, no HS256 signed with the public key); issuer, audience, expiry and subject
are required and checked, `exp`/`nbf` with a small leeway. Roles: `parent` (the subject is the family account),
`manager`, `service` (another Guichet service, through the client-credentials grant).

A manager's scope (`GUICHET_MANAGER_SCOPES`, docs/campaigns.md#scoped-managers-and-four-eyes): the campaign kinds
and named campaigns its provider roles or groups grant; each manager endpoint checks the campaign it touches
(`require_manager_scope`, 403 outside). Without that setting every manager is city-wide, as before it existed.
"""
from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jwt
from flask import current_app, g, request
from jwt.api_jws import PyJWS
from jwt.utils import base64url_decode, base64url_encode

from shared.config import Settings
from shared.errors import Forbidden, Unauthorized

ALGORITHMS = ["RS256"]
# A parent's browser sends the same token with each request of a visit (household, submission, status), seconds
# apart; a few thousand distinct tokens cover the opening minute of one process. About 2 KB each.
VERIFIED_TOKENS_KEPT = 2048
ROLES = ("parent", "agent", "manager", "service")
# The claims every token must carry; Keycloak puts `sub` in access tokens through its `basic` scope.
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
BEARER_SCHEME = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


@dataclass(frozen=True)
class ManagerScope:
    """The campaigns a manager may manage: every one (city-wide), or those of some kinds and some named ones."""
    city_wide: bool = False
    kinds: frozenset[str] = frozenset()
    campaign_ids: frozenset[str] = frozenset()

    def allows(self, kind: str, campaign_id: object | None = None) -> bool:
        return self.city_wide or kind in self.kinds or (campaign_id is not None and str(campaign_id) in self.campaign_ids)

    def __or__(self, other: ManagerScope) -> ManagerScope:
        return ManagerScope(self.city_wide or other.city_wide, self.kinds | other.kinds,
                            self.campaign_ids | other.campaign_ids)


CITY_WIDE = ManagerScope(city_wide=True)
NO_CAMPAIGN = ManagerScope()


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    claims: Mapping[str, Any]  # read-only: one verified token's principal serves each of its requests
    scope: ManagerScope = CITY_WIDE  # what a manager may manage; meaningless for the other roles

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles.intersection(roles))


def roles_from_claims(claims: Mapping[str, Any], path: str, mapping: Mapping[str, str] | None = None) -> frozenset[str]:
    """The roles at a dotted claim path (`realm_access.roles`), renamed through `mapping` (the provider's name →
    Guichet's) when one is given; a claim of the wrong type is an invalid token (401), never a 500."""
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            return frozenset()
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not all(isinstance(role, str) for role in value):
        raise Unauthorized(f"The token's `{path}` claim is not a list of role names.", code="invalid-token")
    if mapping:
        return frozenset(mapping[role] for role in value if role in mapping)
    return frozenset(value)


class _CachingVerifier:
    """Verifies a token once (signature, issuer, audience, expiry, required claims); its later requests are
    answered from the principal kept for it, their expiry checked again each time with the same leeway."""

    def __init__(self, issuer: str, audience: str, leeway_seconds: int, tokens_kept: int, roles_claim: str,
                 role_mapping: Mapping[str, str] | None, manager_scopes: Mapping[str, ManagerScope] | None = None,
                 groups_claim: str = "groups"):
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway_seconds
        self.roles_claim = roles_claim
        self.role_mapping = dict(role_mapping or {})
        self.manager_scopes = dict(manager_scopes or {})
        self.groups_claim = groups_claim
        # Failures raise, and lru_cache keeps no exception: only tokens that passed every check are kept.
        self._verified = functools.lru_cache(maxsize=tokens_kept)(self._decode)

    def verify(self, token: str) -> Principal:
        principal, expires_at, key_id = self._verified(token)
        if expires_at <= time.time() - self.leeway:  # PyJWT's rule for `exp`
            raise Unauthorized("The token has expired.", code="token-expired")
        self._check_key_still_trusted(key_id)
        return principal

    def _check_key_still_trusted(self, key_id: str | None) -> None:
        """A kept token whose key was removed since is refused too."""

    def _key_for(self, header: Mapping[str, Any]) -> tuple[Any, str | None]:
        raise NotImplementedError

    def _decode(self, token: str) -> tuple[Principal, int, str | None]:
        header = _header_of(token)
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized(f"The token is not valid: the algorithm {header.get('alg')!r} is not allowed.",
                               code="invalid-token")
        # The header read once: PyJWT checks every base64 character in Python, each read costs (docs/PERFORMANCE.md).
        key, key_id = self._key_for(header)
        try:
            claims = _JWT.decode(token, key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer,
                                leeway=self.leeway, options={"require": REQUIRED_CLAIMS})
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired.", code="token-expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"The token is not valid: {exc}.", code="invalid-token") from exc
        if not isinstance(claims["sub"], str) or not claims["sub"] or not isinstance(claims["exp"], int | float):
            raise Unauthorized("The token is not valid: `sub` or `exp` has the wrong type.", code="invalid-token")
        roles = roles_from_claims(claims, self.roles_claim, self.role_mapping)
        scope = scope_from_claims(claims, self.manager_scopes, self.roles_claim, self.groups_claim)
        return (Principal(subject=claims["sub"], roles=roles, claims=MappingProxyType(claims), scope=scope),
                int(claims["exp"]), key_id)


def _header_of(token: str) -> dict[str, Any]:
    """The token's header, read only to choose the key and refuse another algorithm early: `jwt.decode` then checks
    the whole token strictly, this header included. `jwt.get_unverified_header` would check every base64 character
    of all three segments in Python (~80 µs a new token, docs/PERFORMANCE.md); it still gives its own error for a
    header this quick read cannot take."""
    segment = token.partition(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, RecursionError):
        header = None
    # PyJWT's own checks of what the key is chosen by (a `kid` that is not a string is its error, a 401).
    if isinstance(header, dict) and isinstance(header.get("kid", ""), str):
        return header
    try:
        return jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"The token is not valid: {exc}.", code="invalid-token") from exc


_BASE64URL = re.compile(rb"[A-Za-z0-9_-]*")


class _StrictJWS(PyJWS):
    """PyJWT's JWS with its segment check done by one regular expression instead of a Python generator over every
    character (about half of a new token's `jwt.decode`, docs/PERFORMANCE.md): the same refusals, message included
    (a unit test feeds both the same segments), so nothing a token is checked for changes."""

    @staticmethod
    def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
        stripped = segment.rstrip(b"=")
        padding = len(segment) - len(stripped)
        # Trailing '=' accepted as PyJWT accepts them (at most two, to a multiple of 4); junk refused.
        if padding > 2 or (padding and len(segment) % 4) or len(stripped) % 4 == 1 \
                or not _BASE64URL.fullmatch(stripped):
            raise jwt.DecodeError(f"Invalid {name} padding")
        try:
            decoded = base64url_decode(stripped)
        except (TypeError, binascii.Error) as err:
            raise jwt.DecodeError(f"Invalid {name} padding") from err
        if base64url_encode(decoded) != stripped:  # non-canonical trailing bits
            raise jwt.DecodeError(f"Invalid {name} padding")
        return decoded


class _StrictJWT(jwt.PyJWT):
    """`jwt.decode`'s checks, every one, over `_StrictJWS`."""

    def __init__(self) -> None:
        super().__init__()
        self._jws = _StrictJWS(options=self._get_sig_options())


_JWT = _StrictJWT()


class TokenVerifier(_CachingVerifier):
    """One static public key (a file): the provider-less mode of the tests that mint development tokens
    (shared.devtokens, roles in a `roles` claim). Never used when OIDC_ISSUER is set."""

    def __init__(self, public_key_pem: str | bytes, issuer: str, audience: str, leeway_seconds: int = 30,
                 tokens_kept: int = VERIFIED_TOKENS_KEPT, roles_claim: str = "roles",
                 manager_scopes: Mapping[str, ManagerScope] | None = None, groups_claim: str = "groups"):
        super().__init__(issuer, audience, leeway_seconds, tokens_kept, roles_claim, None, manager_scopes,
                         groups_claim)
        try:
            # Prepared once, as PyJWT would prepare it on every decode from the PEM text.
            self.public_key = jwt.get_algorithm_by_name(ALGORITHMS[0]).prepare_key(public_key_pem)
        except jwt.InvalidKeyError:
            self.public_key = public_key_pem  # as before: decoding fails with PyJWT's own error

    @classmethod
    def from_file(cls, path: Path, issuer: str, audience: str) -> TokenVerifier:
        return cls(path.read_bytes(), issuer, audience)

    def _key_for(self, header: Mapping[str, Any]) -> tuple[Any, str | None]:
        return self.public_key, None


class ProviderTokenVerifier(_CachingVerifier):
    """The OpenID Connect provider's keys: discovery document → JWKS, cached and refreshed (see the module)."""

    def __init__(self, issuer: str, audience: str, *, roles_claim: str = "realm_access.roles",
                 role_mapping: Mapping[str, str] | None = None, jwks_max_age: float = 300,
                 jwks_min_refresh: float = 10, leeway_seconds: int = 30, tokens_kept: int = VERIFIED_TOKENS_KEPT,
                 http_timeout: float = 5, clock: Callable[[], float] = time.monotonic,
                 manager_scopes: Mapping[str, ManagerScope] | None = None, groups_claim: str = "groups"):
        super().__init__(issuer.rstrip("/"), audience, leeway_seconds, tokens_kept, roles_claim, role_mapping,
                         manager_scopes, groups_claim)
        self.jwks_max_age = jwks_max_age
        self.jwks_min_refresh = jwks_min_refresh
        self.http_timeout = http_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._jwks_uri: str | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self.fetches = 0  # how many times the JWKS was read (the tests count them)

    @classmethod
    def from_settings(cls, settings: Settings) -> ProviderTokenVerifier:
        return cls(settings.oidc_issuer, settings.jwt_audience, roles_claim=settings.oidc_roles_claim,
                   role_mapping=parse_role_mapping(settings.oidc_role_mapping),
                   jwks_max_age=settings.oidc_jwks_max_age.total_seconds(),
                   jwks_min_refresh=settings.oidc_jwks_min_refresh.total_seconds(),
                   leeway_seconds=int(settings.oidc_leeway.total_seconds()),
                   manager_scopes=parse_manager_scopes(settings.manager_scopes),
                   groups_claim=settings.oidc_groups_claim)

    def _get_json(self, url: str) -> Any:
        with urllib.request.urlopen(url, timeout=self.http_timeout) as answer:  # noqa: S310 — the provider's https URL
            return json.loads(answer.read())

    def _discover(self) -> str:
        if self._jwks_uri is None:
            document = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            if document.get("issuer") != self.issuer:
                raise RuntimeError(f"the provider's discovery document names the issuer {document.get('issuer')!r}, "
                                   f"not {self.issuer!r}")
            self._jwks_uri = document["jwks_uri"]
        return self._jwks_uri

    def _refresh(self) -> None:
        """Read the JWKS again (the caller holds the lock). A provider out of reach keeps the keys known."""
        self._fetched_at = self._clock()
        self.fetches += 1
        try:
            keys = jwt.PyJWKSet.from_dict(self._get_json(self._discover()))
        except (OSError, ValueError, KeyError, RuntimeError, jwt.PyJWKSetError) as exc:
            if not self._keys:
                raise Unauthorized("The identity provider's keys cannot be read now.", code="keys-unavailable") from exc
            return
        self._keys = {key.key_id: key for key in keys.keys
                      if key.key_id and key.public_key_use in (None, "sig") and key.algorithm_name in ALGORITHMS}

    def _current_keys(self, unknown_kid: str | None = None) -> dict[str, jwt.PyJWK]:
        with self._lock:
            age = None if self._fetched_at is None else self._clock() - self._fetched_at
            if age is None or age >= self.jwks_max_age or (
                    unknown_kid is not None and unknown_kid not in self._keys and age >= self.jwks_min_refresh):
                self._refresh()
            return self._keys

    def _key_for(self, header: Mapping[str, Any]) -> tuple[Any, str | None]:
        key_id = header.get("kid")
        if not isinstance(key_id, str) or not key_id:
            raise Unauthorized("The token is not valid: it names no signing key (`kid`).", code="invalid-token")
        key = self._current_keys().get(key_id) or self._current_keys(unknown_kid=key_id).get(key_id)
        if key is None:
            raise Unauthorized("The token is not valid: it is signed by a key the provider does not publish.",
                               code="invalid-token")
        return key.key, key_id

    def _check_key_still_trusted(self, key_id: str | None) -> None:
        if key_id not in self._current_keys():
            raise Unauthorized("The token is not valid: its signing key was withdrawn by the provider.",
                               code="invalid-token")


def parse_role_mapping(text: str) -> dict[str, str]:
    """`OIDC_ROLE_MAPPING`: "provider-role=guichet-role,…" (e.g. "famille=parent,agent-dfpe=manager"); empty: the
    provider's role names are Guichet's."""
    mapping: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        provider_role, sep, guichet_role = pair.partition("=")
        if not sep or guichet_role.strip() not in ROLES:
            raise ValueError(f"OIDC_ROLE_MAPPING: {pair!r} is not provider-role={'|'.join(ROLES)}")
        mapping[provider_role.strip()] = guichet_role.strip()
    return mapping


def parse_manager_scopes(text: str) -> dict[str, ManagerScope]:
    """`GUICHET_MANAGER_SCOPES`: "name=grant,grant;name=grant" where a name is a provider role or group and a grant
    `kind:<kind>`, `campaign:<uuid>` or `*` (city-wide), e.g. "dfpe-psv=kind:sport_vacances;direction=*".
    Empty: no scoping at all (every manager city-wide)."""
    scopes: dict[str, ManagerScope] = {}
    for entry in filter(None, (part.strip() for part in text.split(";"))):
        name, sep, grants = entry.partition("=")
        if not sep or not name.strip() or not grants.strip():
            raise ValueError(f"GUICHET_MANAGER_SCOPES: {entry!r} is not role-or-group=grant,…")
        scope = NO_CAMPAIGN
        for grant in filter(None, (part.strip() for part in grants.split(","))):
            scope = scope | _grant(grant)
        scopes[name.strip()] = scopes.get(name.strip(), NO_CAMPAIGN) | scope
    return scopes


def _grant(grant: str) -> ManagerScope:
    if grant == "*":
        return CITY_WIDE
    what, _, value = grant.partition(":")
    if what == "kind" and value:
        return ManagerScope(kinds=frozenset({value}))
    if what == "campaign":
        try:
            return ManagerScope(campaign_ids=frozenset({str(uuid.UUID(value))}))
        except ValueError:
            pass
    raise ValueError(f"GUICHET_MANAGER_SCOPES: {grant!r} is not kind:<kind>, campaign:<uuid> or *")


def scope_from_claims(claims: Mapping[str, Any], scopes: Mapping[str, ManagerScope], roles_claim: str,
                      groups_claim: str) -> ManagerScope:
    """The union of what the token's provider roles and groups are granted; city-wide when no scopes are set.
    Keycloak names groups by their path ("/dfpe-psv"): the name without its leading slash matches too."""
    if not scopes:
        return CITY_WIDE
    names = roles_from_claims(claims, roles_claim) | roles_from_claims(claims, groups_claim)
    scope = NO_CAMPAIGN
    for name in names | {name.lstrip("/") for name in names}:
        scope = scope | scopes.get(name, NO_CAMPAIGN)
    return scope


def require_manager_scope(kind: str, campaign_id: object | None = None) -> None:
    """403 unless this request's manager may manage a campaign of this kind (or this very campaign)."""
    if not current_principal().scope.allows(kind, campaign_id):
        raise Forbidden(f"Your manager rights do not cover this campaign (kind {kind}).", code="out-of-scope")


def require_city_wide_manager() -> None:
    """403 unless this request's manager is city-wide: what spans every campaign (a family's whole record, its
    erasure) is not for a manager scoped to some kinds or campaigns."""
    if not current_principal().scope.city_wide:
        raise Forbidden("Only city-wide manager rights cover a family's records across campaigns.",
                        code="out-of-scope")


def client_credentials_token(settings: Settings) -> tuple[str, int]:
    """An access token for this process's own client (OIDC_CLIENT_ID/SECRET) from the provider's token endpoint
    (client-credentials grant), and its lifetime in seconds."""
    issuer = settings.oidc_issuer.rstrip("/")
    with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=5) as answer:  # noqa: S310
        token_endpoint = json.loads(answer.read())["token_endpoint"]
    body = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": settings.oidc_client_id,
                                   "client_secret": settings.oidc_client_secret}).encode()
    with urllib.request.urlopen(token_endpoint, body, timeout=5) as answer:  # noqa: S310
        token = json.loads(answer.read())
    return token["access_token"], int(token.get("expires_in", 60))


def verifier_from_settings(settings: Settings) -> ProviderTokenVerifier | TokenVerifier:
    """The provider's keys when OIDC_ISSUER names one (make run, production); otherwise the static key file of
    the provider-less tests."""
    if settings.oidc_issuer:
        return ProviderTokenVerifier.from_settings(settings)
    return TokenVerifier(settings.jwt_public_key_file.read_bytes(), settings.jwt_issuer, settings.jwt_audience,
                         leeway_seconds=int(settings.oidc_leeway.total_seconds()),
                         manager_scopes=parse_manager_scopes(settings.manager_scopes),
                         groups_claim=settings.oidc_groups_claim)


def current_principal() -> Principal:
    principal = getattr(g, "principal", None)
    if principal is None:
        principal = _authenticate()
        g.principal = principal
    return principal


def bearer_token(authorization: str) -> str:
    """The token of an `Authorization: Bearer …` header; "" for another scheme or none. Also read by the
    services' WSGI paths answered before Flask, so they accept exactly the headers Flask's routes accept."""
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _authenticate() -> Principal:
    token = bearer_token(request.headers.get("Authorization", ""))
    if not token:
        raise Unauthorized("Send a bearer token in the Authorization header.", code="token-missing",
                           headers={"WWW-Authenticate": 'Bearer realm="guichet"'})
    verifier: TokenVerifier | ProviderTokenVerifier = current_app.extensions["guichet.token_verifier"]
    try:
        return verifier.verify(token)
    except Unauthorized as exc:
        exc.headers.setdefault("WWW-Authenticate", 'Bearer realm="guichet", error="invalid_token"')
        raise


def require_roles(*roles: str) -> Callable:
    """View decorator: 401 without a valid token, 403 when the token has none of the roles."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if not principal.has_any(roles):
                raise Forbidden(f"This action needs the role {' or '.join(roles)}.", code="role-missing")
            return view(*args, **kwargs)

        # flask-smorest reads _apidoc to document the security requirement in OpenAPI
        apidoc = dict(getattr(view, "_apidoc", {}))
        apidoc.setdefault("manual_doc", {})["security"] = [{"bearerAuth": []}]
        wrapper._apidoc = apidoc  # type: ignore[attr-defined]
        return wrapper

    return decorator
