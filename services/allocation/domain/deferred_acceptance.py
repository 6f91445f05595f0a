"""Child-proposing deferred acceptance (Gale–Shapley), with sibling groups as units.

Every entrant proposes to its best offer not yet tried; each offer keeps, among the entrants it
holds and the new one, those its choice rule admits (see seats.py) and turns the others away,
who then propose to their next offer. Without sibling groups the result is the child-optimal
stable matching: no seat is wasted, no child is refused an offer they prefer while a child that
offer orders after them holds it, and ranking one's true preferences is the best strategy. With
identical priorities everywhere it is serial dictatorship in the offers' common order.

Sibling groups break those theorems (a stable matching need not exist with them): a group turned
away frees more seats than whoever displaced it took, and children turned away before may then
be worth more to the offer than those who take those seats. Two rules handle that, by version
(see docs/allocation.md, "Sibling groups: re-proposal"):

- rule 1 (draws published as guichet-draw/1): a vacancy pass gives free seats to whoever ranked
  the offer above their place, in the offer's order, without displacing anyone. A child turned
  away before a group was displaced never comes back, so a single child could be waitlisted
  while a single child with a worse number held a seat there.
- rule 2 (the current one): re-proposal, as couples matching does (Roth and Peranson, 1999). After
  deferred acceptance, while some offer's choice rule would admit an entrant that ranked it above
  its place (the first such entrant in the offer's order), that entrant proposes there again,
  leaves its place, and those it displaces go on down their lists. At most `reproposal_limit`
  re-proposals are made: when it is reached the process may be cycling (no stable allocation may
  exist); `Matching.unsettled` then names the group displaced most often, which `allocate` splits
  (its children apply alone) before starting again.

Entrants propose in the order of their ids, and those turned away queue again in the order the
offer lists them; with sibling groups the order matters, and this fixed one keeps the result
deterministic. (An entrant turned away by its last choice does not queue again: it would have
nothing left to propose.)
"""
from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from itertools import chain

from services.allocation.domain.priorities import Ranking
from services.allocation.domain.seats import NOBODY, SeatPlan, Seats


class Matching:
    """Who holds which seats at the end: per offer (by index), and per entrant (by index); and who
    still seeks each offer (`seekers`)."""

    def __init__(self, seats: list[Seats], ranking: Ranking):
        self.seats = seats
        self.seekers: list[list[int]] = []  # per offer, in its order, the keys of those who ranked it above their place
        self.assigned = assigned = [-1] * ranking.count  # offer index, or -1
        self.position = position = list(ranking.lengths)  # of the assigned offer in the choices
        self.unsettled: int | None = None  # rule 2: the group to split when re-proposal did not settle
        mask, shift, count, at_turn = ranking.position_mask, ranking.shift, ranking.count, ranking.at_turn
        for offer, offer_seats in enumerate(seats):
            for holders in offer_seats.held:  # rather than `holders()`: no list made per offer
                for key in holders:
                    i = at_turn[(key >> shift) % count]
                    assigned[i] = offer
                    position[i] = key & mask

    def move(self, i: int, offer: int, position: int) -> None:
        self.assigned[i] = offer
        self.position[i] = position


RULES = (1, 2)
CURRENT_RULE = 2


def deferred_acceptance(ranking: Ranking, plans: list[SeatPlan], rule: int = CURRENT_RULE) -> Matching:
    seats = [Seats(plan, ranking) for plan in plans]
    turned_away_by = _propose(ranking, seats)
    matching = Matching(seats, ranking)
    for listing in turned_away_by:
        listing.sort()
    matching.seekers = turned_away_by  # every choice above an entrant's place turned it away
    if rule == 1 or not any(size > 1 for size in ranking.sizes):
        _fill_vacancies(ranking, seats, matching.seekers, matching)  # without groups it moves nobody
    else:
        _repropose(ranking, seats, matching, reproposal_limit(ranking))
    return matching


def _propose(ranking: Ranking, seats: list[Seats]) -> list[list[int]]:
    """Deferred acceptance until nobody is left to propose; per offer, the keys it turned away.

    The queue holds proposals rather than entrants: slot s (see `Ranking`) is one entrant's choice,
    its choices' slots following one another, so an entrant turned away at slot s queues s + 1 when
    it has a choice left (`more[s]`). A sibling group's slots hold ~offer, which sends them to the
    general rule; a single child's are worked out from the holders' seats (`Seats.admit_child`).
    """
    sizes, lengths, first_slot = ranking.sizes, ranking.lengths, ranking.first_slot
    shift, count, at_turn, mask = ranking.shift, ranking.count, ranking.at_turn, ranking.position_mask
    flat_keys = ranking.slot_keys
    flat_offers = ranking.slot_offers[:]  # a sibling group's are marked below
    more = list(chain.from_iterable(map(_More().__getitem__, lengths)))
    for i, size in enumerate(sizes):
        if size > 1:
            for slot in range(first_slot[i], first_slot[i + 1]):
                flat_offers[slot] = ~flat_offers[slot]
    reserve_bits = 0  # the criteria bits some reserve block is for
    for offer_seats in seats:
        for bits in offer_seats.block_bits:
            reserve_bits |= bits
    turned_away_by: list[list[int]] = [[] for _ in seats]
    refused = [listing.append for listing in turned_away_by]
    # In the order of the entrants' ids: a fixed order keeps groups' outcomes independent of input order.
    # A list read from the front as it grows is the queue: iterating over it reaches what is appended during the
    # loop, in order, which costs less than a deque's popleft per proposal.
    # Every entrant `enter` makes has a choice; one without would have nothing to propose.
    waiting = first_slot[:-1] if all(lengths) else [first for first, length in zip(first_slot, lengths) if length]
    queue = waiting.append
    for slot in waiting:
        key = flat_keys[slot]
        offer = flat_offers[slot]
        if offer >= 0:  # a single child
            offer_seats = seats[offer]
            if not key & reserve_bits:
                # Seats.admit_child for a child no reserve is for, inlined (most proposals): the blocks are not
                # its business, and it takes an open seat if one is left, or the last open holder's if it comes
                # before it and that holder is one child (a sibling group there is the intricate case).
                open_left = offer_seats.open_left
                if open_left > 0:  # a seat left: taken, and nothing else changes
                    insort(offer_seats.held[-1], key)
                    offer_seats.open_left = open_left - 1
                    if key > offer_seats.top:
                        offer_seats.top = key
                    continue
                top = offer_seats.top
                if key > top:  # Seats.turns_away_at_once: most proposals to a popular offer end here
                    refused[offer](key)
                    if more[slot]:
                        queue(slot + 1)
                    continue
                held = offer_seats.held
                open_holders = held[-1]
                if open_holders and key < open_holders[-1] and open_holders[-1] not in offer_seats.groups:
                    turned_away = open_holders.pop()
                    insort(open_holders, key)
                    if turned_away == top:  # the offer's last holder gone: the last of the others
                        top = -1
                        for holders in held:
                            if holders and holders[-1] > top:
                                top = holders[-1]
                        offer_seats.top = top
                    refused[offer](turned_away)
                    j = at_turn[(turned_away >> shift) % count]
                    turned_slot = first_slot[j] + (turned_away & mask)
                    if more[turned_slot]:
                        queue(turned_slot + 1)
                    continue
            # Seats.turns_away_at_once, inlined.
            elif key > offer_seats.top and offer_seats.open_left < 1 and not key & offer_seats.spare:
                refused[offer](key)
                if more[slot]:
                    queue(slot + 1)
                continue
            turned_away = offer_seats.admit_child(key)
            if turned_away >= 0:
                refused[offer](turned_away)
                j = at_turn[(turned_away >> shift) % count]
                turned_slot = first_slot[j] + (turned_away & mask)
                if more[turned_slot]:
                    queue(turned_slot + 1)
                continue
            if turned_away == NOBODY:
                continue
            size = 1
        else:
            offer = ~offer
            offer_seats = seats[offer]
            size = sizes[at_turn[(key >> shift) % count]]
            if offer_seats.turns_away_at_once(key, size):
                refused[offer](key)
                if more[slot]:
                    queue(slot + 1)
                continue
        for turned_away in offer_seats.choose_again(key, size):
            refused[offer](turned_away)
            j = at_turn[(turned_away >> shift) % count]
            turned_slot = first_slot[j] + (turned_away & mask)
            if more[turned_slot]:
                queue(turned_slot + 1)
    return turned_away_by


class _More(dict):
    """Choice count → for each of its slots, whether a choice follows."""
    def __missing__(self, length: int) -> tuple[bool, ...]:
        more = self[length] = (True,) * (length - 1) + (False,) if length else ()
        return more


def reproposal_limit(ranking: Ranking) -> int:
    """How many re-proposals rule 2 makes at most before deciding that it may be cycling: far more
    than settling ever took on random campaigns (a few per group), yet small enough to stop fast."""
    members = sum(size for size in ranking.sizes if size > 1)
    longest = max(ranking.lengths, default=0)
    return 64 + 16 * members * max(longest, 1)


def _repropose(ranking: Ranking, seats: list[Seats], matching: Matching, limit: int) -> None:
    """Rule 2's re-proposal, from the end of deferred acceptance (see the module's docstring).

    Offers are examined in the order of their indices, first all of them, then those whose holders
    changed in a way that may leave room: a group turned away, a holder gone to a better place. At
    an offer, the seekers (`matching.seekers`) are read in the offer's order, and the first one the
    choice rule would admit together with the holders proposes again.
    """
    keys, offers, first_slot, lengths = ranking.slot_keys, ranking.slot_offers, ranking.first_slot, ranking.lengths
    sizes, shift, count, at_turn, mask = ranking.sizes, ranking.shift, ranking.count, ranking.at_turn, \
        ranking.position_mask
    assigned, position, seekers = matching.assigned, matching.position, matching.seekers
    displaced = [0] * count  # per entrant, how often it lost a place during re-proposal
    dirty = set(range(len(seats)))
    made = 0

    def entrant(key: int) -> int:
        return at_turn[(key >> shift) % count]

    def fall(turned_away: list[int], offer: int) -> None:
        """Those turned away by `offer` go on down their lists (deferred acceptance, resumed)."""
        waiting = deque((key, offer) for key in turned_away)
        while waiting:
            key, at = waiting.popleft()
            j = entrant(key)
            _add(seekers[at], key)
            if assigned[j] == at and position[j] == key & mask:  # it held a seat there
                assigned[j], position[j] = -1, lengths[j]
                displaced[j] += 1
            for choice in range((key & mask) + 1, lengths[j]):
                offer_ = offers[first_slot[j] + choice]
                new_key = keys[first_slot[j] + choice]
                turned = seats[offer_].admit(new_key, sizes[j])
                if any(sizes[entrant(k)] > 1 for k in turned) or sizes[j] > 1:
                    dirty.add(offer_)
                if new_key in turned:
                    turned.remove(new_key)
                    _add(seekers[offer_], new_key)
                    waiting.extend((k, offer_) for k in turned)
                    continue
                matching.move(j, offer_, choice)
                waiting.extend((k, offer_) for k in turned)
                break

    while dirty:
        offer = min(dirty)
        dirty.discard(offer)
        key = _first_admitted_seeker(ranking, seats[offer], seekers, offer, position)
        if key is None:
            continue
        made += 1
        if made > limit:
            groups = [i for i in range(count) if sizes[i] > 1]
            matching.unsettled = max(groups, key=lambda i: (displaced[i], -i))
            return
        i = entrant(key)
        left = assigned[i]
        if left >= 0:  # it leaves its place: the others there keep theirs
            left_key = keys[first_slot[i] + position[i]]
            left_seats = seats[left]
            remaining = [k for k in left_seats.holders() if k != left_key]
            chosen = left_seats.admitting_everyone(remaining)
            if chosen is None:  # the rule never drops a holder when one leaves; kept for safety
                chosen = left_seats.choose(sorted(remaining), {k: sizes[entrant(k)] for k in remaining
                                                               if sizes[entrant(k)] > 1})
            left_seats.replace(chosen)
            admitted = {k for held in chosen[0] for k in held}
            dirty.add(left)
            lost = [k for k in remaining if k not in admitted]
            if lost:
                fall(lost, left)
        turned = seats[offer].admit(key, sizes[i])
        matching.move(i, offer, key & mask)
        dirty.add(offer)
        if turned:
            fall(turned, offer)


def _add(listing: list[int], key: int) -> None:
    """Into a sorted list, once."""
    place = bisect_left(listing, key)
    if place == len(listing) or listing[place] != key:
        listing.insert(place, key)


def _first_admitted_seeker(ranking: Ranking, offer_seats: Seats, seekers: list[list[int]], offer: int,
                           position: list[int]) -> int | None:
    """The first seeker of the offer, in its order, that ranked it above its place and that the
    offer's choice rule admits together with its holders; None if there is none."""
    shift, count, at_turn, mask, sizes = ranking.shift, ranking.count, ranking.at_turn, ranking.position_mask, \
        ranking.sizes
    for key in seekers[offer]:  # those who no longer seek it are skipped, not removed: removing costs more
        i = at_turn[(key >> shift) % count]
        if key & mask >= position[i]:
            continue
        size = sizes[i]
        if offer_seats.turns_away_at_once(key, size):
            if not offer_seats.spare and not offer_seats.open_left:
                return None  # every later seeker comes after every holder too, with no seat left
            continue
        holders = offer_seats.holders()
        groups = dict(offer_seats.groups)
        if size > 1:
            groups[key] = size
        chosen = offer_seats.choose(sorted([*holders, key]), groups)
        if any(key in held for held in chosen[0]):
            return key
    return None


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
    position, assigned, keys, first_slot = matching.position, matching.assigned, ranking.slot_keys, ranking.first_slot
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
                left_key = keys[first_slot[i] + position[i]]
                left_seats = seats[left_offer]
                left_chosen = left_seats.admitting_everyone([k for k in left_seats.holders() if k != left_key])
            if chosen is not None and (left_offer < 0 or left_chosen is not None):
                return i, offer, key & position_mask, chosen, left_offer, left_chosen
    return None
