"""The verifiable lottery: a committed secret seed and numbers anyone can recompute.

The seed is drawn when the campaign opens and only a commitment to it is published; it is revealed
at the draw. Numbers are HMAC-SHA-256 values keyed by the draw key, read as 256-bit big-endian
integers; the LOWER number wins. Nobody can predict a number before the seed is revealed, and after
it is revealed anyone can check both the seed (against the commitment) and every number.

Since the format guichet-draw/3 (see docs/allocation.md, "Who could steer the lottery"):
- the campaign's secret is 64 bytes, the seed and a lines key. The lines key turns each (random,
  server-chosen) application id into the pseudonymous line the public bundle shows and the lottery
  hashes; it is never published (auditors are given it), only its SHA-256, which the commitment
  published at the opening covers with the seed: `SHA-256(seed ‖ SHA-256(lines key))`;
- the draw key is not the seed but `SHA-256("guichet-draw/3" ‖ 0 ‖ seed ‖ root)`, root being the
  Merkle root of every line in the draw: each number depends on every application, those submitted
  after it included, so knowing the seed during the window does not let anyone pick a number.
Campaigns committed before (a 32-byte secret, commitment SHA-256(seed)) keep their commitment; their
lines key is derived from the seed.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from itertools import repeat

from services.allocation.domain.model import Application, CampaignPolicy

try:  # CPython 3.11's own SHA-256 (in the standard library): the same digests as OpenSSL's, made and copied
    # with less work per message, which is what a draw's 140,000 short messages cost. Elsewhere, OpenSSL's.
    from _sha256 import sha256 as _small_messages_sha256
except ImportError:
    _small_messages_sha256 = hashlib.sha256

SEED_BYTES = 32
SECRET_BYTES = 64  # seed ‖ lines key
DRAW_KEY_LABEL = b"guichet-draw/3\0"


def generate_seed() -> bytes:
    return secrets.token_bytes(SEED_BYTES)


def commitment(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def verify_commitment(seed: bytes, published_commitment: str) -> bool:
    return hmac.compare_digest(commitment(seed), published_commitment.strip().lower())


def generate_secret() -> bytes:
    """A campaign's lottery secret: the seed (revealed at the draw) and the lines key (never published)."""
    return secrets.token_bytes(SECRET_BYTES)


def secret_parts(secret: bytes) -> tuple[bytes, bytes, str | None]:
    """(seed, lines key, SHA-256 of the lines key or None). A 32-byte secret is a seed committed
    before lines keys existed: its lines key is derived from it and its commitment is SHA-256(seed)."""
    if len(secret) == SECRET_BYTES:
        seed, lines_key = secret[:SEED_BYTES], secret[SEED_BYTES:]
        return seed, lines_key, hashlib.sha256(lines_key).hexdigest()
    return secret, hmac.new(secret, b"guichet/lines", hashlib.sha256).digest(), None


def secret_commitment(secret: bytes) -> str:
    """What is published at the opening: SHA-256(seed ‖ SHA-256(lines key)), or SHA-256(seed) for an
    old 32-byte secret."""
    seed, _, lines_digest = secret_parts(secret)
    return sealed_commitment(seed, lines_digest)


def sealed_commitment(seed: bytes, lines_digest: str | None) -> str:
    if lines_digest is None:
        return commitment(seed)
    return hashlib.sha256(seed + bytes.fromhex(lines_digest)).hexdigest()


def line_of(lines_key: bytes, application_id: str) -> str:
    """The application's pseudonymous line in the public bundle: a UUID-shaped HMAC of its id (the first 16
    bytes of the HMAC as `str(uuid.UUID(bytes=...))` writes them). `hmac.digest` and the hex cut by hand rather
    than an `hmac.new` object and a `UUID`: a draw makes one line per application, at a third of the cost."""
    hexed = hmac.digest(lines_key, b"line:" + application_id.encode(), "sha256")[:16].hex()
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"


def salt_of(lines_key: bytes, application_id: str) -> bytes:
    """The salt of the application's facts commitment: given to its family and to auditors only."""
    return hmac.digest(lines_key, b"salt:" + application_id.encode(), "sha256")[:16]


def lines_of(lines_key: bytes, application_ids: list[str]) -> list[str]:
    """`line_of` for each id: a draw's lines, with the key's HMAC states made once (see `Drawer`)."""
    lines = []
    for digest in Drawer(lines_key).digests([b"line:" + application_id.encode() for application_id in application_ids]):
        hexed = digest[:16].hex()
        lines.append(f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}")
    return lines


def salts_of(lines_key: bytes, application_ids: list[str]) -> list[bytes]:
    """`salt_of` for each id, with the key's HMAC states made once (see `Drawer`)."""
    return [digest[:16] for digest in
            Drawer(lines_key).digests([b"salt:" + application_id.encode() for application_id in application_ids])]


def _leaf(line: str) -> bytes:
    return hashlib.sha256(b"\0" + line.encode()).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\1" + left + right).digest()


def applications_root(lines) -> str:
    """The Merkle root (SHA-256, leaves 0‖line, nodes 1‖left‖right, an odd last node carried up)
    of the lines, sorted. The root of no line is SHA-256 of nothing."""
    level = [_leaf(line) for line in sorted(lines)]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        level = [_node(level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
    return level[0].hex()


def inclusion_proof(lines, line: str) -> list[dict[str, str]]:
    """The sibling hashes from the line's leaf up to the root: [{"left"|"right": hex}, …]."""
    ordered = sorted(lines)
    index = ordered.index(line)
    level = [_leaf(each) for each in ordered]
    proof = []
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append({"left" if sibling < index else "right": level[sibling].hex()})
        level = [_node(level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
        index //= 2
    return proof


def proves_inclusion(line: str, proof: list[dict[str, str]], root: str) -> bool:
    hashed = _leaf(line)
    for step in proof:
        (side, sibling), = step.items()
        hashed = _node(bytes.fromhex(sibling), hashed) if side == "left" else _node(hashed, bytes.fromhex(sibling))
    return hmac.compare_digest(hashed.hex(), root)


def draw_key(seed: bytes, root: str) -> bytes:
    """The lottery's key: the seed mixed with the root of every line in the draw."""
    return hashlib.sha256(DRAW_KEY_LABEL + seed + bytes.fromhex(root)).digest()


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
        self._inner = _small_messages_sha256(bytes(byte ^ 0x36 for byte in key))
        self._outer = _small_messages_sha256(bytes(byte ^ 0x5C for byte in key))

    def number(self, application_id: str, ticket_count: int = 1) -> int:
        return self.numbers([application_id], [ticket_count])[0]

    def numbers(self, application_ids: list[str], ticket_counts: list[int]) -> list[int]:
        """`lottery_number(seed, application_id, ticket_count)` for each pair."""
        if any(count < 1 for count in ticket_counts):
            raise ValueError("an application holds at least one ticket")
        encoded = list(map(str.encode, application_ids))  # UTF-8
        best = self.digests(encoded)
        most = max(ticket_counts, default=1)
        if most > 1:
            # Digests of equal length compare as bytes as their big-endian numbers do: only each
            # application's best is read as a number.
            suffixes = [f":{ticket}".encode() for ticket in range(most)]  # f"{id}:{ticket}" from the id's bytes
            holders = [index for index, count in enumerate(ticket_counts) if count > 1]
            extra = [(index, ticket) for index in holders for ticket in range(1, ticket_counts[index])]
            digests = self.digests([encoded[index] + suffixes[ticket] for index, ticket in extra])
            for (index, _), digest in zip(extra, digests):
                if digest < best[index]:
                    best[index] = digest
        return list(map(int.from_bytes, best, repeat("big")))

    def digests(self, messages: list[bytes]) -> list[bytes]:
        """HMAC(seed, message) of each message: half the time of `hmac.digest`, which prepares the key anew
        for every message."""
        inner, outer = self._inner.copy, self._outer.copy
        digests = []
        for message in messages:
            hashed = inner()
            hashed.update(message)
            keyed = outer()
            keyed.update(hashed.digest())
            digests.append(keyed.digest())
        return digests


def format_number(number: int) -> str:
    """The published form: 64 hexadecimal digits, so numbers sort as text as they do as integers."""
    return f"{number:064x}"
