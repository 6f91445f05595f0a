"""Bearer tokens for a developer. `make token ACCOUNT=manager-demo` asks the provider `make run` started (its
demo accounts' password is their name) for an access token. Without a provider (the provider-less tests):
a local RSA key pair and tokens signed with it (`--role parent --sub family-42`), which only services started
without OIDC_ISSUER accept."""
from __future__ import annotations

import argparse
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth import ROLES
from shared.config import Settings


def ensure_dev_keys(private_path: Path, public_path: Path) -> None:
    """Create the key pair once; the private key never leaves the git-ignored .local folder."""
    if private_path.exists() and public_path.exists():
        return
    private_path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    private_path.chmod(0o600)
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))


def issue_token(settings: Settings, subject: str, roles: list[str], ttl_seconds: int = 3600, **claims) -> str:
    ensure_dev_keys(settings.jwt_private_key_file, settings.jwt_public_key_file)
    now = int(time.time())
    payload = {"iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": subject, "roles": roles,
               "iat": now, "nbf": now, "exp": now + ttl_seconds, "jti": str(uuid.uuid4()), **claims}
    return jwt.encode(payload, settings.jwt_private_key_file.read_bytes(), algorithm="RS256")


LOCAL_ISSUER = "http://127.0.0.1:18080/realms/guichet"


def provider_token(issuer: str, account: str, password: str) -> str:
    """An access token of the local realm's account, through its command-line client (password grant)."""
    import json
    import urllib.parse
    import urllib.request

    body = urllib.parse.urlencode({"grant_type": "password", "client_id": "guichet-cli", "username": account,
                                   "password": password}).encode()
    with urllib.request.urlopen(f"{issuer}/protocol/openid-connect/token", body, timeout=10) as answer:  # noqa: S310
        return json.loads(answer.read())["access_token"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print a bearer token.")
    parser.add_argument("--account", help="an account of the provider (make run: parent-demo, manager-demo, agent-demo)")
    parser.add_argument("--password", help="its password (the demo accounts': their name)")
    parser.add_argument("--role", choices=ROLES, help="provider-less: the role of a locally signed token")
    parser.add_argument("--sub", help="provider-less: subject, the family account for a parent")
    parser.add_argument("--ttl", type=int, default=8 * 3600, help="provider-less: lifetime in seconds")
    args = parser.parse_args(argv)
    settings = Settings.from_env("devtokens")
    if args.account:
        print(provider_token(settings.oidc_issuer or LOCAL_ISSUER, args.account, args.password or args.account))
    elif args.role and args.sub:
        print(issue_token(settings, args.sub, [args.role], args.ttl))
    else:
        parser.error("give --account (a provider's account), or --role and --sub (a provider-less token)")


if __name__ == "__main__":
    main()
