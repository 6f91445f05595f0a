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

Entrants propose in the order of their ids, and those turned away queue again in the order the
offer lists them; with sibling groups the order matters, and this fixed one keeps the result
deterministic. (An entrant turned away by its last choice does not queue again: it would have
nothing left to propose.)
"""
from __future__ import annotations

from collections import deque

from services.allocation.domain.priorities import Ranking
from services.allocation.domain.seats import SeatPlan, Seats


class Matching:
    """Who holds which seats at the end: per offer (by index), and per entrant (by index); and who
    still seeks each offer (`seekers`)."""

    def __init__(self, seats: list[Seats], ranking: Ranking):
        self.seats = seats
        self.seekers: list[list[int]] = []  # see _seekers
        self.assigned = [-1] * ranking.count  # offer index, or -1
        self.position = [len(choices) for choices in ranking.choices]  # of the assigned offer in the choices
        mask, shift, count, at_turn = ranking.position_mask, ranking.shift, ranking.count, ranking.at_turn
        for offer, offer_seats in enumerate(seats):
            for key in offer_seats.holders():
                i = at_turn[(key >> shift) % count]
                self.assigned[i] = offer
                self.position[i] = key & mask

    def move(self, i: int, offer: int, position: int) -> None:
        self.assigned[i] = offer
        self.position[i] = position


def deferred_acceptance(ranking: Ranking, plans: list[SeatPlan]) -> Matching:
    seats = [Seats(plan, ranking) for plan in plans]
    keys, choices, sizes = ranking.keys, ranking.choices, ranking.sizes
    shift, count, at_turn = ranking.shift, ranking.count, ranking.at_turn
    next_choice = [0] * count
    waiting = deque(range(count))  # in id order: a fixed order keeps groups' outcomes independent of input order
    propose, queue = waiting.popleft, waiting.append
    while waiting:
        i = propose()
        choice = next_choice[i]
        entrant_keys = keys[i]
        next_choice[i] = choice + 1
        key = entrant_keys[choice]
        offer_seats = seats[choices[i][choice]]
        # Seats.turns_away_at_once, inlined: most proposals to a popular offer end here.
        if key > offer_seats.top and sizes[i] > offer_seats.open_left and not key & offer_seats.spare:
            if choice + 1 < len(entrant_keys):
                queue(i)
            continue
        for turned_away in offer_seats.admit(key, sizes[i]):
            j = at_turn[(turned_away >> shift) % count]
            if next_choice[j] < len(keys[j]):
                queue(j)
    matching = Matching(seats, ranking)
    matching.seekers = _seekers(ranking, matching)
    _fill_vacancies(ranking, seats, matching.seekers, matching)
    return matching


def _seekers(ranking: Ranking, matching: Matching) -> list[list[int]]:
    """Per offer, the keys of the entrants that ranked it above their place (or have none), in the
    offer's order: those who would take a seat freed there."""
    seekers: list[list[int]] = [[] for _ in matching.seats]
    add = [offer_seekers.append for offer_seekers in seekers]
    for choices, keys, placed_at in zip(ranking.choices, ranking.keys, matching.position):
        for choice in range(placed_at):
            add[choices[choice]](keys[choice])
    for offer_seekers in seekers:
        offer_seekers.sort()
    return seekers


def _fill_vacancies(ranking: Ranking, seats: list[Seats], listings: list[list[int]], matching: Matching) -> None:
    """Moves entrants, one at a time, into free seats at an offer they ranked above their place: at
    each step, the first such move in the order of offer ids, then of each offer's own order, for
    which the offer admits its holders and the entrant together, and the offer the entrant leaves
    admits the others. Repeated until there is none.

    `listings` are the seekers of each offer. An entrant is dropped from them once it holds that
    offer or one it ranked higher: moves only ever improve an entrant's place, so it never seeks that
    offer again. What is left includes, still, everyone who seeks each offer, which the waitlists
    start from.
    """
    while (move := _next_vacancy_move(ranking, seats, listings, matching)) is not None:
        i, offer, position, chosen, left_offer, left_chosen = move
        seats[offer].replace(chosen)
        if left_offer >= 0:
            seats[left_offer].replace(left_chosen)
        matching.move(i, offer, position)


def _next_vacancy_move(ranking: Ranking, seats: list[Seats], listings: list[list[int]], matching: Matching):
    sizes, shift, count, position_mask = ranking.sizes, ranking.shift, ranking.count, ranking.position_mask
    at_turn = ranking.at_turn
    position, assigned, keys = matching.position, matching.assigned, ranking.keys
    for offer, offer_seats in enumerate(seats):
        free = offer_seats.open_left  # the seats nobody holds
        if free == 0:
            continue
        seekers = listings[offer] = [key for key in listings[offer]
                                     if key & position_mask < position[at_turn[(key >> shift) % count]]]
        for key in seekers:
            i = at_turn[(key >> shift) % count]
            if sizes[i] > free:
                continue
            chosen = offer_seats.admitting_everyone([*offer_seats.holders(), key])
            left_offer, left_chosen = assigned[i], None
            if left_offer >= 0:
                left_key = keys[i][position[i]]
                left_seats = seats[left_offer]
                left_chosen = left_seats.admitting_everyone([k for k in left_seats.holders() if k != left_key])
            if chosen is not None and (left_offer < 0 or left_chosen is not None):
                return i, offer, key & position_mask, chosen, left_offer, left_chosen
    return None
