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
    shift, count = ranking.shift, ranking.count
    offers = []
    for plan, seats, waitlist_length in zip(plans, matching.seats, waitlist_lengths):
        seats_by_kind = Counter()
        groups = seats.groups  # the holders that are sibling groups, and their sizes
        for seat_kind, holders in zip(plan.seat_kinds, seats.held):
            seats_by_kind[seat_kind] += len(holders) + (sum(groups[key] - 1 for key in holders if key in groups)
                                                        if groups else 0)
        placed = sum(seats_by_kind.values())
        capacity = plan.offer.capacity
        reserves = tuple(ReserveUse(block.criterion.label, block.seats, seats_by_kind[block.criterion.label])
                         for block in plan.reserves)
        offers.append(OfferStatistics(plan.offer.offer_id, capacity, placed, placed / capacity if capacity else 0.0,
                                      waitlist_length, reserves))
    # Children placed per tier: one per holder, and a group's other members (`Seats.groups` holds every group).
    placed_by_tier = Counter([(key >> shift) // count + 1 for seats in matching.seats for key in seats.holders()])
    for seats in matching.seats:
        for key, size in seats.groups.items():
            placed_by_tier[(key >> shift) // count + 1] += size - 1
    return Statistics(sum(statuses.values()), statuses[Status.ALLOCATED], statuses[Status.WAITLISTED],
                      statuses[Status.REJECTED], tuple(offers), dict(sorted(placed_by_tier.items())))
