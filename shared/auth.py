"""Bearer tokens as the city's OIDC provider ("Mon Paris") issues them: RS256 JWTs.

Only RS256 is accepted (no `none`, no HS256 signed with the public key); issuer, audience and
expiry are required and checked. Roles: `parent` (the subject is the family account), `manager`,
`service` (another Guichet service).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import jwt
from flask import current_app, g, request

from shared.errors import Forbidden, Unauthorized

ALGORITHMS = ["RS256"]
ROLES = ("parent", "manager", "service")
BEARER_SCHEME = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    claims: dict[str, Any]

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles.intersection(roles))


class TokenVerifier:
    def __init__(self, public_key_pem: str | bytes, issuer: str, audience: str, leeway_seconds: int = 30):
        self.public_key = public_key_pem
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway_seconds

    @classmethod
    def from_file(cls, path: Path, issuer: str, audience: str) -> "TokenVerifier":
        return cls(path.read_bytes(), issuer, audience)

    def verify(self, token: str) -> Principal:
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
        return Principal(subject=str(claims["sub"]), roles=frozenset(roles), claims=claims)


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
