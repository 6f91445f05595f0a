"""Waitlists, in each offer's own order.

Everyone who ranked an offer and holds no place they ranked higher is on its waitlist, placed or
not: like Parcoursup, a child placed at their third choice still waits for their first two, and
takes a freed seat there only by giving up the one held. Members of a sibling group hold adjacent
positions. A waitlist stops at the offer's limit; a group that would straddle the limit stops it
too, since nobody ordered after a group may overtake it on a waitlist.
"""
from __future__ import annotations

from typing import Mapping

from services.allocation.domain.deferred_acceptance import Matching
from services.allocation.domain.priorities import Proposer
from services.allocation.domain.seats import SeatPlan


def waitlists(proposers: tuple[Proposer, ...], plans: Mapping[str, SeatPlan],
              matching: Matching) -> dict[str, dict[str, int]]:
    """Offer id → {application id: position}, 1 being next in line."""
    ranked_by: dict[str, list[Proposer]] = {offer_id: [] for offer_id in plans}
    for proposer in proposers:
        for offer_id in proposer.choices:
            ranked_by[offer_id].append(proposer)
    lists = {}
    for offer_id, plan in sorted(plans.items()):
        waiting = sorted((p for p in ranked_by[offer_id] if p.prefers(offer_id, matching.assignment.get(p.entrant_id))),
                         key=lambda p: p.order(offer_id))
        limit = plan.offer.waitlist_limit
        positions: dict[str, int] = {}
        for proposer in waiting:
            if limit is not None and len(positions) + proposer.size > limit:
                break
            for member in proposer.entrant.members:
                positions[member.application_id] = len(positions) + 1
        lists[offer_id] = positions
    return lists
