"""The verifiable lottery: a committed secret seed and numbers anyone can recompute.

The seed is drawn when the campaign opens and only its SHA-256 is published; it is revealed at the
draw. Numbers are HMAC-SHA-256 values keyed by the seed, read as 256-bit big-endian integers;
the LOWER number wins. Nobody can predict a number before the seed is revealed, and after it is
revealed anyone can check both the seed (against the commitment) and every number.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from services.allocation.domain.model import Application, CampaignPolicy

SEED_BYTES = 32


def generate_seed() -> bytes:
    return secrets.token_bytes(SEED_BYTES)


def commitment(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def verify_commitment(seed: bytes, published_commitment: str) -> bool:
    return hmac.compare_digest(commitment(seed), published_commitment.strip().lower())


def tickets(policy: CampaignPolicy, application: Application) -> int:
    """One ticket, plus lottery_weight_per_unsuccessful_year per earlier year without a place."""
    weight = policy.lottery_weight_per_unsuccessful_year if policy.draws_lots else 0
    return 1 + weight * application.facts.unsuccessful_earlier_years


def lottery_number(seed: bytes, application_id: str, ticket_count: int = 1) -> int:
    """The best (lowest) of the application's tickets.

    Ticket 0 is HMAC(seed, application_id); ticket i ≥ 1 is HMAC(seed, f"{application_id}:{i}").
    Ticket 0 being the plain id means extra tickets can only lower a number, never change it otherwise.
    """
    if ticket_count < 1:
        raise ValueError("an application holds at least one ticket")
    messages = [application_id] + [f"{application_id}:{i}" for i in range(1, ticket_count)]
    return min(_hmac_number(seed, message) for message in messages)


def _hmac_number(seed: bytes, message: str) -> int:
    return int.from_bytes(hmac.new(seed, message.encode("utf-8"), hashlib.sha256).digest(), "big")


class Drawer:
    """`lottery_number` for many applications under one seed, computed faster.

    HMAC(K, m) = SHA-256((K' ^ opad) + SHA-256((K' ^ ipad) + m)), K' being the key padded with
    zeros to SHA-256's 64-byte block, or first hashed when longer (RFC 2104). Here the two padded
    keys are hashed once, and each number starts from copies of those two states.
    """

    _BLOCK = 64  # SHA-256's block size in bytes

    def __init__(self, seed: bytes):
        key = hashlib.sha256(seed).digest() if len(seed) > self._BLOCK else bytes(seed)
        key = key.ljust(self._BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))

    def number(self, application_id: str, ticket_count: int = 1) -> int:
        return self.numbers([application_id], [ticket_count])[0]

    def numbers(self, application_ids: list[str], ticket_counts: list[int]) -> list[int]:
        """`lottery_number(seed, application_id, ticket_count)` for each pair."""
        if any(count < 1 for count in ticket_counts):
            raise ValueError("an application holds at least one ticket")
        best = self._hmacs(application_id.encode("utf-8") for application_id in application_ids)
        extra = [(index, f"{application_ids[index]}:{ticket}".encode())
                 for index, count in enumerate(ticket_counts) if count > 1 for ticket in range(1, count)]
        for (index, _), number in zip(extra, self._hmacs(message for _, message in extra)):
            if number < best[index]:
                best[index] = number
        return best

    def _hmacs(self, messages) -> list[int]:
        inner, outer, read = self._inner.copy, self._outer.copy, int.from_bytes
        numbers = []
        for message in messages:
            hashed = inner()
            hashed.update(message)
            keyed = outer()
            keyed.update(hashed.digest())
            numbers.append(read(keyed.digest(), "big"))
        return numbers


def format_number(number: int) -> str:
    """The published form: 64 hexadecimal digits, so numbers sort as text as they do as integers."""
    return f"{number:064x}"
