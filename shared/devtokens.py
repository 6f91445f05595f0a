"""A stand-in for the city's OIDC provider on a developer's machine: a local RSA key pair and
tokens signed with it. `make token ROLE=parent SUB=family-42` prints one."""
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print a development bearer token.")
    parser.add_argument("--role", choices=ROLES, required=True)
    parser.add_argument("--sub", required=True, help="subject: the family account for a parent")
    parser.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds")
    args = parser.parse_args(argv)
    print(issue_token(Settings.from_env("devtokens"), args.sub, [args.role], args.ttl))


if __name__ == "__main__":
    main()
