"""The bearer token of a parent's submission is verified once and then served from the verifier's bounded
cache, its expiry still checked at every request (no I/O). The verifier lives in shared/auth.py; these
tests sit with intake, whose CPU per request the cache is for."""
import time
from types import SimpleNamespace

import jwt
import pytest

import shared.auth as auth
from shared.auth import TokenVerifier
from shared.errors import Unauthorized
from tests.support.tokens import AUDIENCE, ISSUER, OTHER_PRIVATE, PUBLIC, token


def verifier(**options) -> TokenVerifier:
    return TokenVerifier(PUBLIC, ISSUER, AUDIENCE, **options)


def test_a_token_is_verified_once_then_served_from_the_cache():
    checks = verifier()
    bearer = token(sub="family-42")
    first = checks.verify(bearer)
    assert checks.verify(bearer) is first
    assert (first.subject, first.roles) == ("family-42", frozenset({"parent"}))
    with pytest.raises(TypeError):
        first.claims["sub"] = "family-43"  # shared by the token's requests: read-only


def test_a_cached_token_expires_at_its_exp_with_the_same_leeway(monkeypatch):
    checks = verifier(leeway_seconds=30)
    now = int(time.time())
    bearer = token(iat=now, exp=now + 60)
    checks.verify(bearer)
    monkeypatch.setattr(auth, "time", SimpleNamespace(time=lambda: now + 60 + 29))
    assert checks.verify(bearer).subject == "family-1"
    monkeypatch.setattr(auth, "time", SimpleNamespace(time=lambda: now + 60 + 30))
    with pytest.raises(Unauthorized) as expired:
        checks.verify(bearer)
    assert expired.value.code == "token-expired"


def test_refused_tokens_are_never_kept():
    checks = verifier()
    genuine = token()
    forged = token(private=OTHER_PRIVATE)
    header, _, signature = genuine.split(".")
    tampered = f"{header}.{jwt.utils.base64url_encode(b'{}').decode()}.{signature}"
    for bad in (forged, tampered, token(exp=int(time.time()) - 60), token(aud="someone-else")):
        for _ in range(2):
            with pytest.raises(Unauthorized):
                checks.verify(bad)
    assert checks._verified.cache_info().currsize == 0
    assert checks.verify(genuine).subject == "family-1"


def test_the_cache_is_bounded():
    checks = verifier(tokens_kept=2)
    for n in range(5):
        checks.verify(token(sub=f"family-{n}"))
    assert checks._verified.cache_info().currsize == 2
