"""Campaign figures: places filled per offer, waitlist lengths, how far each tier got."""
from __future__ import annotations

from collections import Counter
from typing import Mapping

from services.allocation.domain.deferred_acceptance import Matching
from services.allocation.domain.priorities import Proposer
from services.allocation.domain.result import OfferStatistics, Outcome, ReserveUse, Statistics, Status
from services.allocation.domain.seats import SeatPlan


def statistics(outcomes: Mapping[str, Outcome], proposers: tuple[Proposer, ...], plans: Mapping[str, SeatPlan],
               matching: Matching, waitlists: Mapping[str, Mapping[str, int]]) -> Statistics:
    by_id = {proposer.entrant_id: proposer for proposer in proposers}
    offers = []
    for offer_id, plan in sorted(plans.items()):
        held = matching.held[offer_id]
        seats_by_kind = Counter()
        for entrant_id, seat_kind in held.items():
            seats_by_kind[seat_kind] += by_id[entrant_id].size
        placed = sum(seats_by_kind.values())
        capacity = plan.offer.capacity
        reserves = tuple(ReserveUse(block.criterion.label, block.seats, seats_by_kind[block.criterion.label])
                         for block in plan.reserves)
        offers.append(OfferStatistics(offer_id, capacity, placed, placed / capacity if capacity else 0.0,
                                      len(waitlists[offer_id]), reserves))
    placed_by_tier = Counter()
    for entrant_id, offer_id in matching.assignment.items():
        placed_by_tier[by_id[entrant_id].tiers[offer_id]] += by_id[entrant_id].size
    statuses = Counter(outcome.status for outcome in outcomes.values())
    return Statistics(len(outcomes), statuses[Status.ALLOCATED], statuses[Status.WAITLISTED],
                      statuses[Status.REJECTED], tuple(offers), dict(sorted(placed_by_tier.items())))
