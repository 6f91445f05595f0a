"""Deferred acceptance's proposals, made faster (issue 18), still give what the rule gives.

Two oracles: the offer's choice rule applied from scratch (`Seats.choose`) for each proposal worked
out incrementally, and the proposal loop as it was written before the queue held slots rather than
entrants (kept here only as the oracle).
"""
from __future__ import annotations

from collections import deque
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from services.allocation.domain.deferred_acceptance import Matching, _propose
from services.allocation.domain.entrants import enter
from services.allocation.domain.model import PriorityCriterion
from services.allocation.domain.priorities import Ranking
from services.allocation.domain.seats import ReserveBlock, SeatPlan, Seats
from tests.support.allocation_builders import crowded_instances, instances, offer, property_settings

CRITERIA = (PriorityCriterion("disability_allowance"), PriorityCriterion("single_parent"))


@st.composite
def proposals_to_one_offer(draw):
    """(seats, proposals): an offer with 0 to 2 reserve blocks, and distinct proposers in the order they
    propose, each (key, size); keys laid out as `Ranking` lays them (turn, criteria met, position)."""
    capacity = draw(st.integers(1, 8))
    blocks, reserved = [], 0
    for criterion in draw(st.lists(st.sampled_from(CRITERIA), max_size=2, unique=True)):
        blocks.append(ReserveBlock(criterion, draw(st.integers(0, capacity - reserved))))  # shares add up to 1 at most
        reserved += blocks[-1].seats
    count = draw(st.integers(1, 16))
    sizes_by_turn = draw(st.lists(st.sampled_from((1, 1, 1, 2, 3)), min_size=count, max_size=count))
    position_bits = 2
    shift = position_bits + len(CRITERIA)
    ranking = SimpleNamespace(bit=lambda criterion: 1 << CRITERIA.index(criterion), position_bits=position_bits,
                              sizes_by_turn=sizes_by_turn, shift=shift, count=count)
    turns = draw(st.permutations(range(count)))
    proposals = [((turn << shift) | (draw(st.integers(0, 3)) << position_bits) | draw(st.integers(0, 3)),
                  sizes_by_turn[turn]) for turn in turns[:draw(st.integers(1, count))]]
    return Seats(SeatPlan(offer("o", capacity), tuple(blocks)), ranking), proposals


def state(seats: Seats) -> tuple:
    return seats.held, seats.left, seats.open_left, seats.groups, seats.reserved, seats.spare, seats.top


@settings(property_settings, max_examples=500)
@given(proposals_to_one_offer())
def test_each_proposal_leaves_the_offer_as_its_choice_rule_from_scratch_would(instance):
    seats, proposals = instance
    for key, size in proposals:
        proposers = [*seats.holders(), key]
        groups = {**seats.groups, **({key: size} if size > 1 else {})}
        expected = Seats.__new__(Seats)
        for name in ("plan", "capacity", "block_seats", "block_bits", "sizes", "shift", "count"):
            setattr(expected, name, getattr(seats, name))
        chosen = seats.choose(sorted(proposers), groups)
        expected.replace(chosen)
        admitted = {k for held in chosen[0] for k in held}

        turned_away = seats.admit(key, size)

        assert turned_away == [k for k in proposers if k not in admitted]
        assert state(seats) == state(expected)


def entrant_queue_proposals(ranking: Ranking, plans: list[SeatPlan]) -> Matching:
    """The proposals as deferred_acceptance made them at 1b3ee68 (a queue of entrants), before re-proposal."""
    seats = [Seats(plan, ranking) for plan in plans]
    sizes = ranking.sizes
    keys = [ranking.keys_of(i) for i in range(ranking.count)]
    choices = [ranking.choices_of(i) for i in range(ranking.count)]
    shift, count, at_turn = ranking.shift, ranking.count, ranking.at_turn
    next_choice = [0] * count
    waiting = deque(range(count))
    while waiting:
        i = waiting.popleft()
        choice = next_choice[i]
        next_choice[i] = choice + 1
        key = keys[i][choice]
        offer_seats = seats[choices[i][choice]]
        if offer_seats.turns_away_at_once(key, sizes[i]):
            if choice + 1 < len(keys[i]):
                waiting.append(i)
            continue
        for turned_away in offer_seats.admit(key, sizes[i]):
            j = at_turn[(turned_away >> shift) % count]
            if next_choice[j] < len(keys[j]):
                waiting.append(j)
    matching = Matching(seats, ranking)
    matching.seekers = [[] for _ in seats]
    for entrant_choices, entrant_keys, placed_at in zip(choices, keys, matching.position):
        for choice in range(placed_at):
            matching.seekers[entrant_choices[choice]].append(entrant_keys[choice])
    for listing in matching.seekers:
        listing.sort()
    return matching


@settings(property_settings, max_examples=300)
@given(st.one_of(instances(), crowded_instances(siblings=True), crowded_instances(siblings=True, reserves=True)))
def test_proposals_queued_as_slots_end_where_proposals_queued_as_entrants_ended(instance):
    policy, offers, applications, seed = instance
    applications = sorted(applications, key=lambda application: application.application_id)
    offers_by_id = {o.offer_id: o for o in offers}
    offer_ids = sorted(offers_by_id)
    ranking = Ranking(enter(policy, offers_by_id, applications, seed), {o: i for i, o in enumerate(offer_ids)},
                      [offers_by_id[o] for o in offer_ids], policy)
    ranking.prioritise()
    plans = [SeatPlan.for_offer(offers_by_id[o], policy) for o in offer_ids]
    expected = entrant_queue_proposals(ranking, plans)

    seats = [Seats(plan, ranking) for plan in plans]
    seekers = _propose(ranking, seats)
    matching = Matching(seats, ranking)

    assert (matching.assigned, matching.position) == (expected.assigned, expected.position)
    assert [s.held for s in seats] == [s.held for s in expected.seats]
    assert [sorted(listing) for listing in seekers] == expected.seekers
