"""Campaign figures: places filled per offer, waitlist lengths, how far each tier got."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from services.allocation.domain.deferred_acceptance import Matching
from services.allocation.domain.priorities import Ranking
from services.allocation.domain.result import OfferStatistics, ReserveUse, Statistics, Status
from services.allocation.domain.seats import SeatPlan


def statistics(statuses: Mapping[Status, int], ranking: Ranking, plans: list[SeatPlan], matching: Matching,
               waitlist_lengths: list[int]) -> Statistics:
    """`statuses`: how many applications have each status. `plans` in the order of offer ids."""
    sizes, shift, count = ranking.sizes, ranking.shift, ranking.count
    sizes_by_turn = ranking.sizes_by_turn
    grouped = any(size > 1 for size in sizes)
    offers = []
    for plan, seats, waitlist_length in zip(plans, matching.seats, waitlist_lengths):
        seats_by_kind = Counter()
        for seat_kind, holders in zip(plan.seat_kinds, seats.held):
            seats_by_kind[seat_kind] += (sum(sizes_by_turn[(key >> shift) % count] for key in holders) if grouped
                                         else len(holders))
        placed = sum(seats_by_kind.values())
        capacity = plan.offer.capacity
        reserves = tuple(ReserveUse(block.criterion.label, block.seats, seats_by_kind[block.criterion.label])
                         for block in plan.reserves)
        offers.append(OfferStatistics(plan.offer.offer_id, capacity, placed, placed / capacity if capacity else 0.0,
                                      waitlist_length, reserves))
    placed_by_tier = Counter()
    for i, (offer, position) in enumerate(zip(matching.assigned, matching.position)):
        if offer >= 0:
            placed_by_tier[(ranking.keys[i][position] >> shift) // count + 1] += sizes[i]
    return Statistics(sum(statuses.values()), statuses[Status.ALLOCATED], statuses[Status.WAITLISTED],
                      statuses[Status.REJECTED], tuple(offers), dict(sorted(placed_by_tier.items())))
