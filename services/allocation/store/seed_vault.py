"""The lottery secret sealed at rest: a database dump alone does not reveal a campaign's seed.

Between the opening and the draw, whoever reads the seed could compute every lottery number once the
close fixes the applications' digest; sealed with a key from the secrets (GUICHET_LOTTERY_SEED_KEY,
AES-256-GCM, the campaign id as associated data so a sealed seed cannot be moved to another campaign),
reading it needs both the database and the service's secrets. Rows written before a key was set stay
readable in clear; `seal_clear_seeds` seals them.

The key is process configuration, like the engine: the composition root installs the vault once
(`install`), and the seeds' repository seals and opens through it, so the use cases never see it.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Sequence
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

MAGIC = b"gse1"
KEY_ID_BYTES = 4
NONCE_BYTES = 12
TAG_BYTES = 16
SECRET_SIZES = (32, 64)  # the seed alone (campaigns committed before lines keys), or seed and lines key


class SeedKeyMissing(RuntimeError):
    """A sealed seed was read by a process without its key: a configuration error, not a family's."""


def parse_keys(value: str | None) -> list[bytes]:
    """"key[,previous,…]": base64 of 32 random bytes each; the first seals, every one opens (rotation)."""
    keys = [base64.urlsafe_b64decode(part.strip() + "=" * (-len(part.strip()) % 4))
            for part in (value or "").split(",") if part.strip()]
    for key in keys:
        if len(key) != 32:
            raise ValueError("GUICHET_LOTTERY_SEED_KEY: each key is 32 bytes, base64-encoded")
    return keys


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


class SeedVault:
    def __init__(self, keys: Sequence[bytes] = ()):
        self._keys = {hashlib.sha256(key).digest()[:KEY_ID_BYTES]: AESGCM(key) for key in keys}
        self._sealing = next(iter(self._keys.items()), None)

    @property
    def seals(self) -> bool:
        return self._sealing is not None

    def seal(self, campaign_id: UUID, secret: bytes) -> bytes:
        if self._sealing is None:
            return secret
        key_id, cipher = self._sealing
        nonce = os.urandom(NONCE_BYTES)
        return MAGIC + key_id + nonce + cipher.encrypt(nonce, secret, campaign_id.bytes)

    def open(self, campaign_id: UUID, stored: bytes) -> bytes:
        if not is_sealed(stored):
            return stored
        key_id = stored[len(MAGIC):len(MAGIC) + KEY_ID_BYTES]
        cipher = self._keys.get(key_id)
        if cipher is None:
            raise SeedKeyMissing(f"the lottery seed of campaign {campaign_id} is sealed with a key this process "
                                 "does not have (GUICHET_LOTTERY_SEED_KEY)")
        nonce_at = len(MAGIC) + KEY_ID_BYTES
        return cipher.decrypt(stored[nonce_at:nonce_at + NONCE_BYTES], stored[nonce_at + NONCE_BYTES:],
                              campaign_id.bytes)


def is_sealed(stored: bytes) -> bool:
    overhead = len(MAGIC) + KEY_ID_BYTES + NONCE_BYTES + TAG_BYTES
    return stored.startswith(MAGIC) and len(stored) - overhead in SECRET_SIZES


_installed = SeedVault()


def install(vault: SeedVault) -> None:
    global _installed
    if not vault.seals:
        log.warning("GUICHET_LOTTERY_SEED_KEY is not set: lottery seeds are stored in clear (docs/privacy.md)")
    _installed = vault


def installed() -> SeedVault:
    return _installed
