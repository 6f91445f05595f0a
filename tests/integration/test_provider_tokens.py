"""A service verifying tokens against the real OpenID Connect provider (Keycloak, `guichet` realm): the
provider's own tokens pass, every forged, foreign or stale one is refused with a 401 problem, a valid token
without the role gets 403, and a rotation of the realm's signing key needs no restart."""
from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from services.campaigns.app import create_app
from services.campaigns.settings import CampaignsSettings
from shared.waiting import wait_until

AUDIENCE_MAPPER = {"name": "guichet-audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
                   "config": {"included.custom.audience": "guichet", "access.token.claim": "true"}}


@pytest.fixture
def service(make_settings, oidc_provider, redis_client):
    settings = make_settings("campaigns", CampaignsSettings, oidc_issuer=oidc_provider.issuer,
                             oidc_jwks_max_age=timedelta(seconds=2), oidc_jwks_min_refresh=timedelta(seconds=0.5),
                             oidc_leeway=timedelta(0))
    app = create_app(settings)
    yield app.test_client()
    app.extensions["guichet.runtime"].close()


@pytest.fixture
def admin(oidc_provider):
    return oidc_provider.admin()


@pytest.fixture
def manager_token(oidc_provider, admin) -> str:
    account = admin.create_account("manager")
    return oidc_provider.password_token(account.username, account.password)


def listing(service, token: str):
    return service.get("/campaigns", headers={"Authorization": f"Bearer {token}"})


def assert_refused(answer, code: str = "invalid-token") -> None:
    assert answer.status_code == 401, answer.get_data(as_text=True)
    assert answer.content_type == "application/problem+json"
    assert answer.json["code"] == code
    assert "invalid_token" in answer.headers["WWW-Authenticate"]


def segments(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload), signature


def encode_segment(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_the_providers_tokens_carry_their_roles(service, oidc_provider, admin, manager_token):
    assert listing(service, manager_token).status_code == 200
    parent = admin.create_account("parent")
    answer = listing(service, oidc_provider.password_token(parent.username, parent.password))
    assert answer.status_code == 403 and answer.json["code"] == "role-missing"
    nobody = admin.create_account(None)
    assert listing(service, oidc_provider.password_token(nobody.username, nobody.password)).status_code == 403


def test_a_service_account_holds_the_service_role_through_client_credentials(service, oidc_provider):
    from tests.support.keycloak import NOTIFICATIONS_CLIENT, NOTIFICATIONS_SECRET

    token = oidc_provider.client_token(NOTIFICATIONS_CLIENT, NOTIFICATIONS_SECRET)
    assert jwt.decode(token, options={"verify_signature": False})["realm_access"]["roles"] == ["service"]
    answer = listing(service, token)  # a service account is no manager
    assert answer.status_code == 403 and answer.json["code"] == "role-missing"


def test_a_token_of_another_realm_is_refused(service, oidc_provider):
    master = oidc_provider.password_token(oidc_provider.admin_username, oidc_provider.admin_password,
                                          client_id="admin-cli", realm="master")
    assert_refused(listing(service, master))


def test_a_token_for_another_audience_is_refused(service, oidc_provider, admin):
    client = f"other-app-{uuid.uuid4().hex[:6]}"
    admin.create_client(client, publicClient=True, directAccessGrantsEnabled=True, standardFlowEnabled=False)
    account = admin.create_account("manager")
    token = oidc_provider.password_token(account.username, account.password, client_id=client)
    assert "guichet" not in str(jwt.decode(token, options={"verify_signature": False}).get("aud"))
    assert_refused(listing(service, token))


def test_an_expired_token_is_refused(service, oidc_provider, admin):
    client = f"short-{uuid.uuid4().hex[:6]}"
    admin.create_client(client, publicClient=True, directAccessGrantsEnabled=True, standardFlowEnabled=False,
                        attributes={"access.token.lifespan": "1"}, protocolMappers=[AUDIENCE_MAPPER])
    account = admin.create_account("manager")
    token = oidc_provider.password_token(account.username, account.password, client_id=client)
    wait_until(lambda: listing(service, token).status_code == 401, timeout=5, what="the token expiring")
    assert_refused(listing(service, token), code="token-expired")


def test_forged_tokens_are_refused(service, manager_token, oidc_provider):
    header, claims, signature = segments(manager_token)
    # roles edited: the provider's signature no longer matches
    edited = {**claims, "realm_access": {"roles": ["manager", "service"]}}
    assert_refused(listing(service, f"{encode_segment(header)}.{encode_segment(edited)}.{signature}"))
    # signed by a key the provider never published, under its own kid and under the provider's
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_refused(listing(service, jwt.encode(claims, key, algorithm="RS256", headers={"kid": "forged"})))
    assert_refused(listing(service, jwt.encode(claims, key, algorithm="RS256", headers={"kid": header["kid"]})))
    # no kid at all
    assert_refused(listing(service, jwt.encode(claims, key, algorithm="RS256")))
    # alg none, and HS256 keyed with the provider's public key
    unsigned = f"{encode_segment({'alg': 'none', 'typ': 'JWT', 'kid': header['kid']})}.{encode_segment(claims)}."
    assert_refused(listing(service, unsigned))
    public_jwk = next(k for k in requests_json(f"{oidc_provider.issuer}/protocol/openid-connect/certs")["keys"]
                      if k["kid"] == header["kid"])
    hs256 = f"{encode_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': header['kid']})}.{encode_segment(claims)}"
    import hashlib
    import hmac
    mac = hmac.new(json.dumps(public_jwk).encode(), hs256.encode(), hashlib.sha256).digest()
    assert_refused(listing(service, f"{hs256}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"))


def test_a_flood_of_unknown_keys_reads_the_providers_keys_at_most_once_per_interval(service, manager_token):
    verifier = service.application.extensions["guichet.token_verifier"]
    assert listing(service, manager_token).status_code == 200
    _, claims, _ = segments(manager_token)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fetches = verifier.fetches
    for n in range(50):
        assert_refused(listing(service, jwt.encode(claims, key, algorithm="RS256", headers={"kid": f"forged-{n}"})))
    # 0.5 s between refreshes: 50 forged kids sent within well under 2 s read the keys a handful of times
    assert verifier.fetches - fetches <= 5


def test_a_rotated_signing_key_is_taken_without_restart_and_a_removed_one_refused(service, oidc_provider, admin,
                                                                                  manager_token):
    old_kid = admin.active_rsa_kid()
    assert segments(manager_token)[0]["kid"] == old_kid
    assert listing(service, manager_token).status_code == 200

    new_kid = admin.add_rsa_key(priority=1000 + uuid.uuid4().int % 1000)
    account = admin.create_account("manager")
    rotated = oidc_provider.password_token(account.username, account.password)
    assert segments(rotated)[0]["kid"] == new_kid
    # Same process: the unknown kid reads the keys again (at most every OIDC_JWKS_MIN_REFRESH, 0.5 s here).
    wait_until(lambda: listing(service, rotated).status_code == 200, timeout=10, what="the new key taken")

    admin.remove_key(old_kid)
    # Within OIDC_JWKS_MAX_AGE (2 s here) the service re-reads the keys and drops the removed one, even for a
    # token it had verified before.
    wait_until(lambda: listing(service, manager_token).status_code == 401, timeout=10,
               what="the removed key refused")
    assert_refused(listing(service, manager_token))
    assert listing(service, rotated).status_code == 200


def requests_json(url: str) -> dict:
    import requests

    return requests.get(url, timeout=10).json()


def test_the_notifications_worker_reads_households_with_its_own_service_account(make_settings, oidc_provider,
                                                                                 redis_client):
    from services.notifications.settings import NotificationsSettings
    from services.notifications.store.contacts import ServiceToken
    from services.registrations.app import create_app as registrations_app
    from services.registrations.settings import RegistrationsSettings
    from tests.support.keycloak import NOTIFICATIONS_CLIENT, NOTIFICATIONS_SECRET

    registrations = registrations_app(make_settings("registrations", RegistrationsSettings,
                                                    oidc_issuer=oidc_provider.issuer))
    worker_settings = make_settings("notifications-worker", NotificationsSettings, oidc_issuer=oidc_provider.issuer,
                                    oidc_client_id=NOTIFICATIONS_CLIENT, oidc_client_secret=NOTIFICATIONS_SECRET)
    bearer = ServiceToken(worker_settings, None)
    first = bearer()
    assert jwt.decode(first, options={"verify_signature": False})["azp"] == NOTIFICATIONS_CLIENT
    assert bearer() == first  # kept until shortly before it expires, not fetched for each call
    answer = registrations.test_client().get("/households/family-without-household",
                                             headers={"Authorization": f"Bearer {first}"})
    assert answer.status_code == 404 and answer.json["code"] == "household-not-found"  # authorised: role service
    registrations.extensions["guichet.runtime"].close()
