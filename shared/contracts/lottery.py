"""Events of the verifiable lottery: the seed's commitment at the opening, the seed at the draw.

They travel on the campaign topic, keyed by campaign id, right after the `campaign.*` event they
follow: the commitment is a fact about the campaign that must be public before any application
can be seen. (The allocation topic is read by registrations as decisions about applications.)
"""
import marshmallow as ma

from shared.contracts.fields import described
from shared.events.registry import EventContract, register
from shared.topics import CAMPAIGN_EVENTS

HEX_SHA256 = ma.validate.Regexp(r"^[0-9a-f]{64}$", error="64 lower-case hexadecimal digits")


class SeedCommittedSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "campaign whose lottery this seed will draw", required=True)
    commitment = described(ma.fields.String, "SHA-256(seed ‖ SHA-256(lines key)) in hexadecimal (SHA-256(seed) for "
                           "campaigns committed before draw format 3): the seed revealed at the draw, with the "
                           "bundle's lines_key_digest, must hash to it", required=True, validate=HEX_SHA256)
    committed_at = described(ma.fields.AwareDateTime, "when the seed was drawn and committed (UTC)", required=True)
    draw_url = described(ma.fields.String, "public page of the draw: commitment now, seed and bundle after the draw",
                         required=True)


class SeedRevealedSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "campaign drawn", required=True)
    seed = described(ma.fields.String, "the secret seed, now public, in hexadecimal (32 bytes)", required=True,
                     validate=HEX_SHA256)
    commitment = described(ma.fields.String, "the commitment published at the opening, which the seed must match",
                           required=True, validate=HEX_SHA256)
    allocation_run_id = described(ma.fields.UUID, "the published allocation run drawn with this seed", required=True)
    revealed_at = described(ma.fields.AwareDateTime, "when the draw was published (UTC)", required=True)
    bundle_url = described(ma.fields.String, "the draw bundle (JSON) that `guichet-verify` recomputes",
                           required=True)


_CAMPAIGN = "5b0f1c3e-8d1a-4c44-9a5e-2a9b4e0c7d11"
_SEED = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
_COMMITMENT = "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd"

register(EventContract(
    "lottery.seed_committed", 1, SeedCommittedSchema, CAMPAIGN_EVENTS,
    "The campaign opened and its lottery secret (seed and lines key) was drawn; only a commitment to it is "
    "published, before any application can be seen, so the city cannot choose the seed afterwards. "
    "`guichet-verify --commitment` checks a published draw against it.",
    {"campaign_id": _CAMPAIGN, "commitment": _COMMITMENT, "committed_at": "2026-02-01T23:01:00.250000+00:00",
     "draw_url": f"/draws/{_CAMPAIGN}"}))
register(EventContract(
    "lottery.seed_revealed", 1, SeedRevealedSchema, CAMPAIGN_EVENTS,
    "The draw was published: the seed is revealed with the bundle anyone can recompute the allocation from.",
    {"campaign_id": _CAMPAIGN, "seed": _SEED, "commitment": _COMMITMENT,
     "allocation_run_id": "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2918", "revealed_at": "2026-03-01T09:00:00+00:00",
     "bundle_url": f"/draws/{_CAMPAIGN}/bundle.json"}))
