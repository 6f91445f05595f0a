"""Child-proposing deferred acceptance (Gale–Shapley), with sibling groups as units.

Every entrant proposes to its best offer not yet tried; each offer keeps, among the entrants it
holds and the new one, those its choice rule admits (see seats.py) and turns the others away,
who then propose to their next offer. Without sibling groups the result is the child-optimal
stable matching: no seat is wasted, no child is refused an offer they prefer while a child that
offer orders after them holds it, and ranking one's true preferences is the best strategy. With
identical priorities everywhere it is serial dictatorship in the offers' common order.

Sibling groups break those theorems (a stable matching need not exist with them). Two effects are
documented exceptions: a group passed over because it did not fit, and a group turned away late
that leaves more seats than the proposer that displaced it took. The vacancy pass below gives such
seats to whoever ranked the offer above their place, in the offer's order, without displacing
anyone; every move makes someone strictly better off, so it ends.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Mapping

from services.allocation.domain.priorities import Proposer
from services.allocation.domain.seats import SeatPlan


@dataclass(frozen=True)
class Matching:
    held: Mapping[str, Mapping[str, str]]  # offer id → {entrant id: kind of seat}
    assignment: Mapping[str, str]  # entrant id → offer id, for those placed


def deferred_acceptance(proposers: tuple[Proposer, ...], plans: Mapping[str, SeatPlan]) -> Matching:
    by_id = {proposer.entrant_id: proposer for proposer in proposers}
    next_choice = dict.fromkeys(by_id, 0)
    held: dict[str, dict[str, str]] = {offer_id: {} for offer_id in plans}
    waiting = deque(sorted(by_id))  # a fixed order keeps groups' outcomes independent of input order
    while waiting:
        proposer = by_id[waiting.popleft()]
        if next_choice[proposer.entrant_id] == len(proposer.choices):
            continue
        offer_id = proposer.choices[next_choice[proposer.entrant_id]]
        next_choice[proposer.entrant_id] += 1
        candidates = [by_id[entrant_id] for entrant_id in held[offer_id]] + [proposer]
        held[offer_id] = plans[offer_id].choose(candidates)
        waiting.extend(c.entrant_id for c in candidates if c.entrant_id not in held[offer_id])
    assignment = {entrant_id: offer_id for offer_id, seats in held.items() for entrant_id in seats}
    _fill_vacancies(by_id, plans, held, assignment)
    return Matching(held, assignment)


def _fill_vacancies(by_id, plans, held, assignment) -> None:
    listed_by: dict[str, list[Proposer]] = {offer_id: [] for offer_id in sorted(plans)}
    for proposer in by_id.values():
        for offer_id in proposer.choices:
            listed_by[offer_id].append(proposer)
    for offer_id, listing in listed_by.items():
        listing.sort(key=lambda proposer: proposer.order(offer_id))
    while (move := _next_vacancy_move(by_id, plans, listed_by, held, assignment)) is not None:
        mover, offer_id, new_seats, left_offer_id, left_seats = move
        held[offer_id] = new_seats
        if left_offer_id is not None:
            held[left_offer_id] = left_seats
        assignment[mover] = offer_id


def _next_vacancy_move(by_id, plans, listed_by, held, assignment):
    for offer_id, listing in listed_by.items():
        free = plans[offer_id].offer.capacity - sum(by_id[entrant_id].size for entrant_id in held[offer_id])
        for seeker in listing:
            if seeker.size > free or not seeker.prefers(offer_id, assignment.get(seeker.entrant_id)):
                continue
            new_seats = _admitting_everyone(plans[offer_id], [*held[offer_id], seeker.entrant_id], by_id)
            left_offer_id = assignment.get(seeker.entrant_id)
            left_seats = None
            if left_offer_id is not None:
                stay = [entrant_id for entrant_id in held[left_offer_id] if entrant_id != seeker.entrant_id]
                left_seats = _admitting_everyone(plans[left_offer_id], stay, by_id)
            if new_seats is not None and (left_offer_id is None or left_seats is not None):
                return seeker.entrant_id, offer_id, new_seats, left_offer_id, left_seats
    return None


def _admitting_everyone(plan: SeatPlan, entrant_ids: list[str], by_id) -> dict[str, str] | None:
    seats = plan.choose(by_id[entrant_id] for entrant_id in entrant_ids)
    return seats if len(seats) == len(entrant_ids) else None
