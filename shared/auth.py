"""Bearer tokens as the city's OIDC provider ("Mon Paris") issues them: RS256 JWTs.

Only RS256 is accepted (no `none`, no HS256 signed with the public key); issuer, audience and
expiry are required and checked. Roles: `parent` (the subject is the family account), `manager`,
`service` (another Guichet service).
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jwt
from flask import current_app, g, request

from shared.errors import Forbidden, Unauthorized

ALGORITHMS = ["RS256"]
# A parent's browser sends the same token with each request of a visit (household, submission, status), seconds
# apart; a few thousand distinct tokens cover the opening minute of one process. About 2 KB each.
VERIFIED_TOKENS_KEPT = 2048
ROLES = ("parent", "manager", "service")
BEARER_SCHEME = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    claims: Mapping[str, Any]  # read-only: one verified token's principal serves each of its requests

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles.intersection(roles))


class TokenVerifier:
    """Verifies a token once (signature, issuer, audience, expiry, required claims); its later requests are
    answered from the principal kept for it, their expiry checked again each time with the same leeway."""

    def __init__(self, public_key_pem: str | bytes, issuer: str, audience: str, leeway_seconds: int = 30,
                 tokens_kept: int = VERIFIED_TOKENS_KEPT):
        try:
            # Prepared once, as PyJWT would prepare it on every decode from the PEM text.
            self.public_key = jwt.get_algorithm_by_name(ALGORITHMS[0]).prepare_key(public_key_pem)
        except jwt.InvalidKeyError:
            self.public_key = public_key_pem  # as before: decoding fails with PyJWT's own error
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway_seconds
        # Failures raise, and lru_cache keeps no exception: only tokens that passed every check are kept.
        self._verified = functools.lru_cache(maxsize=tokens_kept)(self._decode)

    @classmethod
    def from_file(cls, path: Path, issuer: str, audience: str) -> TokenVerifier:
        return cls(path.read_bytes(), issuer, audience)

    def verify(self, token: str) -> Principal:
        principal, expires_at = self._verified(token)
        if expires_at <= time.time() - self.leeway:  # PyJWT's rule for `exp`
            raise Unauthorized("The token has expired.", code="token-expired")
        return principal

    def _decode(self, token: str) -> tuple[Principal, int]:
        try:
            claims = jwt.decode(token, self.public_key, algorithms=ALGORITHMS, audience=self.audience,
                                issuer=self.issuer, leeway=self.leeway,
                                options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired.", code="token-expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"The token is not valid: {exc}.", code="invalid-token") from exc
        roles = claims.get("roles") or []
        if isinstance(roles, str):
            roles = roles.split()
        return (Principal(subject=str(claims["sub"]), roles=frozenset(roles), claims=MappingProxyType(claims)),
                int(claims["exp"]))


def current_principal() -> Principal:
    principal = getattr(g, "principal", None)
    if principal is None:
        principal = _authenticate()
        g.principal = principal
    return principal


def _authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send a bearer token in the Authorization header.", code="token-missing",
                           headers={"WWW-Authenticate": 'Bearer realm="guichet"'})
    verifier: TokenVerifier = current_app.extensions["guichet.token_verifier"]
    try:
        return verifier.verify(token.strip())
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
