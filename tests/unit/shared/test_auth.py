import base64
import json
import time

import jwt
import pytest
from flask_smorest import Blueprint

from shared.auth import TokenVerifier, current_principal, require_roles
from shared.config import Settings
from shared.web import create_service_app
from tests.support.tokens import AUDIENCE, ISSUER, OTHER_PRIVATE, PUBLIC, token


@pytest.fixture
def client():
    blp = Blueprint("probe", __name__, url_prefix="/probe")

    @blp.route("/parent")
    @require_roles("parent")
    def parent_only():
        return {"subject": current_principal().subject}

    @blp.route("/manager")
    @require_roles("manager")
    def manager_only():
        return {"subject": current_principal().subject}

    app = create_service_app(Settings(service_name="auth-test"), title="t", description="d", blueprints=[blp],
                             token_verifier=TokenVerifier(PUBLIC, ISSUER, AUDIENCE))
    return app.test_client()


def get(client, path, bearer):
    return client.get(path, headers={"Authorization": f"Bearer {bearer}"})


def unsigned_none_token():
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=")
    now = int(time.time())
    body = base64.urlsafe_b64encode(json.dumps({"iss": ISSUER, "aud": AUDIENCE, "sub": "family-1", "roles": ["parent"],
                                                "iat": now, "exp": now + 300}).encode()).rstrip(b"=")
    return (header + b"." + body + b".").decode()


def test_valid_token_reaches_the_view_with_its_subject(client):
    response = get(client, "/probe/parent", token())
    assert response.status_code == 200
    assert response.json == {"subject": "family-1"}


# Tokens are made when the test runs, not at collection: a long suite would otherwise expire them all.
@pytest.mark.parametrize("make_bad_token, code", [
    (lambda: token(private=OTHER_PRIVATE), "invalid-token"),
    (lambda: token(iss="https://elsewhere.example"), "invalid-token"),
    (lambda: token(aud="another-api"), "invalid-token"),
    (lambda: token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200), "token-expired"),
    (lambda: token(exp=None), "invalid-token"),
    (unsigned_none_token, "invalid-token"),
    # The header is read leniently to choose the key; the token is then checked strictly, its header included.
    (lambda: token().replace(".", "!.", 1), "invalid-token"),
    (lambda: "bm90IGpzb24." + token().partition(".")[2], "invalid-token"),
    (lambda: "WzFd." + token().partition(".")[2], "invalid-token"),
    (lambda: base64.urlsafe_b64encode(b'{"alg":"RS256","kid":["a"]}').rstrip(b"=").decode() + "."
     + token().partition(".")[2], "invalid-token"),
], ids=["wrong-signature", "wrong-issuer", "wrong-audience", "expired", "no-expiry", "alg-none",
        "junk-in-the-header", "header-not-json", "header-not-an-object", "kid-not-a-string"])
def test_bad_tokens_are_rejected_with_401_problem(client, make_bad_token, code):
    response = get(client, "/probe/parent", make_bad_token())
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == code
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_hs256_signed_with_the_public_key_is_rejected(client):
    # The classic key-confusion attack: the verifier must not accept HMAC keyed with the public PEM.
    import hashlib
    import hmac
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()).rstrip(b"=")
    now = int(time.time())
    body = base64.urlsafe_b64encode(json.dumps({"iss": ISSUER, "aud": AUDIENCE, "sub": "family-1",
                                                "roles": ["manager"], "iat": now, "exp": now + 300}).encode()).rstrip(b"=")
    signature = base64.urlsafe_b64encode(hmac.new(PUBLIC, header + b"." + body, hashlib.sha256).digest()).rstrip(b"=")
    response = get(client, "/probe/manager", (header + b"." + body + b"." + signature).decode())
    assert response.status_code == 401


def test_missing_token_is_401_with_bearer_challenge(client):
    response = client.get("/probe/parent")
    assert response.status_code == 401
    assert response.json["code"] == "token-missing"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_role_is_403(client):
    response = get(client, "/probe/manager", token(roles=["parent"]))
    assert response.status_code == 403
    assert response.json["code"] == "role-missing"


def test_openapi_documents_bearer_security(client):
    spec = client.get("/openapi.json").json
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/probe/manager"]["get"]["security"] == [{"bearerAuth": []}]


@pytest.mark.parametrize("roles", [7, {"parent": True}, [1, 2], ["parent", None]])
def test_a_roles_claim_of_the_wrong_type_is_an_invalid_token_not_an_error(client, roles):
    answer = get(client, "/probe/parent", token(roles=roles))
    assert answer.status_code == 401 and answer.json["code"] == "invalid-token"
    assert "roles" in answer.json["detail"]


def test_roles_are_read_at_a_claim_path_and_renamed_through_the_mapping():
    from shared.auth import parse_role_mapping, roles_from_claims

    claims = {"realm_access": {"roles": ["famille", "offline_access"]}, "groups": "agent-dfpe"}
    mapping = parse_role_mapping("famille=parent, agent-dfpe=manager")
    assert roles_from_claims(claims, "realm_access.roles", mapping) == {"parent"}
    assert roles_from_claims(claims, "groups", mapping) == {"manager"}  # a space-separated string
    assert roles_from_claims(claims, "realm_access.roles") == {"famille", "offline_access"}
    assert roles_from_claims(claims, "resource_access.guichet.roles") == frozenset()
    with pytest.raises(ValueError, match="OIDC_ROLE_MAPPING"):
        parse_role_mapping("famille=superuser")


def test_a_service_started_with_an_issuer_verifies_against_the_provider_never_the_key_file():
    from shared.auth import ProviderTokenVerifier, verifier_from_settings

    settings = Settings(service_name="t", oidc_issuer="https://connexion.paris.example/realms/paris")
    verifier = verifier_from_settings(settings)
    assert isinstance(verifier, ProviderTokenVerifier) and verifier.issuer == settings.oidc_issuer
    assert verifier.roles_claim == "realm_access.roles"


def _segments_to_compare():
    """Segments PyJWT accepts and refuses: canonical, padded, over-padded, junk, non-canonical trailing bits."""
    canonical = [base64.urlsafe_b64encode(raw).rstrip(b"=") for raw in
                 (b"", b"a", b"ab", b"abc", b"abcd", json.dumps({"alg": "RS256", "kid": "k"}).encode(), bytes(range(256)))]
    padded = [base64.urlsafe_b64encode(raw) for raw in (b"a", b"ab", b"abcd")]
    odd = [b"=", b"==", b"===", b"QQ===", b"QQ=", b"QUI=", b"QQ", b"QR", b"QUJ", b"QUK", b"Q", b"QUJDR",
           b"!!!!", b"QQ!!", b"QQ+/", b"QQ\n", b"QQ ", b"QQ.", "QQé".encode(), b"QQ%3D", b"Q=Q=", b"\x00\x00"]
    return canonical + padded + odd


@pytest.mark.parametrize("segment", _segments_to_compare())
def test_the_verifiers_segment_check_refuses_and_accepts_what_pyjwt_does(segment):
    from jwt.api_jws import PyJWS

    from shared.auth import _StrictJWS

    def outcome(decode):
        try:
            return "decoded", decode(segment, "payload")
        except jwt.DecodeError as exc:
            return "refused", str(exc)

    assert outcome(_StrictJWS._decode_base64url_segment) == outcome(PyJWS._decode_base64url_segment)


@pytest.mark.parametrize("segment_index", [0, 1, 2])
@pytest.mark.parametrize("junk", ["!", "=", "+"])
def test_junk_in_any_segment_of_a_signed_token_is_an_invalid_token(client, segment_index, junk):
    segments = token().split(".")
    segments[segment_index] = segments[segment_index][:5] + junk + segments[segment_index][5:]
    response = get(client, "/probe/parent", ".".join(segments))
    assert response.status_code == 401
    assert response.json["code"] == "invalid-token"
