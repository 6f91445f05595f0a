"""Waitlists, in each offer's own order.

Everyone who ranked an offer and holds no place they ranked higher is on its waitlist, placed or
not: like Parcoursup, a child placed at their third choice still waits for their first two, and
takes a freed seat there only by giving up the one held. Members of a sibling group hold adjacent
positions. A waitlist stops at the offer's limit; a group that would straddle the limit stops it
too, since nobody ordered after a group may overtake it on a waitlist.
"""
from __future__ import annotations

from services.allocation.domain.deferred_acceptance import Matching
from services.allocation.domain.priorities import Ranking
from services.allocation.domain.seats import SeatPlan


def waitlists(ranking: Ranking, plans: list[SeatPlan], matching: Matching) -> tuple[list[int | None], list[int]]:
    """Every waitlist position given, and the number of positions each offer (by index) gave.

    A position is found at `(i << ranking.position_bits) | j` for entrant i at its j-th choice: the
    position of its first member, 1 being next in line; a group's other members follow it, one
    position each.

    They start from `matching.seekers`: per offer, in the offer's order, at least everyone who
    ranked it and holds no place they ranked higher (see deferred_acceptance._fill_vacancies).
    """
    sizes, position, at_turn = ranking.sizes, matching.position, ranking.at_turn
    shift, count, position_bits, position_mask = ranking.shift, ranking.count, ranking.position_bits, \
        ranking.position_mask
    positions: list[int | None] = [None] * (count << position_bits)
    grouped = any(size > 1 for size in sizes)
    lengths = []
    for plan, listing in zip(plans, matching.seekers):
        limit = plan.offer.waitlist_limit
        if not grouped:  # one position each: the same, by slices
            waiting = [at_turn[(key >> shift) % count] << position_bits | (key & position_mask) for key in listing]
            waiting = [slot for slot in waiting if slot & position_mask < position[slot >> position_bits]]
            if limit is not None:
                del waiting[limit:]
            for place, slot in enumerate(waiting, start=1):
                positions[slot] = place
            lengths.append(len(waiting))
            continue
        given = 0
        for key in listing:
            i = at_turn[(key >> shift) % count]
            choice = key & position_mask
            if choice >= position[i]:  # holds a place it ranked higher, or this one
                continue
            if limit is not None and given + sizes[i] > limit:
                break
            positions[(i << position_bits) | choice] = given + 1
            given += sizes[i]
        lengths.append(given)
    return positions, lengths
