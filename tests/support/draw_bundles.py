"""Forging draw bundles, to show that guichet-verify refuses them."""
from __future__ import annotations

import copy
from typing import Any

from services.allocation.domain import allocate, result_records
from services.allocation.domain.bundle import _offer_from, _policy_from, _surrogate
from services.allocation.domain.lottery import applications_root, draw_key, sealed_commitment


def redrawn(bundle: dict[str, Any], seed: bytes) -> dict[str, Any]:
    """The same guichet-draw/3 bundle drawn again with another seed, with its own matching commitment:
    consistent with itself, so only the commitment published at the opening can expose it."""
    forged = copy.deepcopy(bundle)
    policy = _policy_from(bundle["policy"])
    offers = [_offer_from(record) for record in bundle["offers"]]
    by_id = {offer.offer_id: offer for offer in offers}
    applications = [_surrogate(policy, by_id, record) for record in bundle["applications"]]
    key = draw_key(seed, applications_root(a.application_id for a in applications))
    forged["results"] = result_records(allocate(policy, offers, applications, key))
    forged["seed"] = seed.hex()
    forged["seed_commitment"] = sealed_commitment(seed, bundle["lines_key_digest"])
    return forged
