"""Campaign figures: places filled per offer, waitlist lengths, how far each tier got."""
from __future__ import annotations

from collections import Counter
from operator import attrgetter
from typing import Mapping

from services.allocation.domain.deferred_acceptance import Matching
from services.allocation.domain.priorities import Ranking
from services.allocation.domain.result import OfferStatistics, Outcome, ReserveUse, Statistics, Status
from services.allocation.domain.seats import SeatPlan


def statistics(outcomes: Mapping[str, Outcome], ranking: Ranking, plans: list[SeatPlan], matching: Matching,
               waitlist_lengths: list[int]) -> Statistics:
    """`plans` in the order of offer ids."""
    sizes, shift, count = ranking.sizes, ranking.shift, ranking.count
    grouped = any(size > 1 for size in sizes)
    offers = []
    for plan, seats, waitlist_length in zip(plans, matching.seats, waitlist_lengths):
        seats_by_kind = Counter()
        for seat_kind, holders in zip(plan.seat_kinds, seats.held):
            seats_by_kind[seat_kind] += (sum(sizes[(key >> shift) % count] for key in holders) if grouped
                                         else len(holders))
        placed = sum(seats_by_kind.values())
        capacity = plan.offer.capacity
        reserves = tuple(ReserveUse(block.criterion.label, block.seats, seats_by_kind[block.criterion.label])
                         for block in plan.reserves)
        offers.append(OfferStatistics(plan.offer.offer_id, capacity, placed, placed / capacity if capacity else 0.0,
                                      waitlist_length, reserves))
    placed_by_tier = Counter()
    tiers = count * count
    for i, (offer, position) in enumerate(zip(matching.assigned, matching.position)):
        if offer >= 0:
            placed_by_tier[(ranking.keys[i][position] >> shift) // tiers + 1] += sizes[i]
    statuses = Counter(map(attrgetter("status"), outcomes.values()))
    return Statistics(len(outcomes), statuses[Status.ALLOCATED], statuses[Status.WAITLISTED],
                      statuses[Status.REJECTED], tuple(offers), dict(sorted(placed_by_tier.items())))
