"""Properties of the allocation over random small campaigns (Hypothesis)."""
from __future__ import annotations

import itertools
import random
from collections import Counter, defaultdict
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from services.allocation.domain import Standing, Status, allocate, lottery_number
from shared.domain.policy import AllocationMode
from tests.support.allocation_builders import crowded_instances, instances, property_settings


def placed_at(result) -> dict[str, list[str]]:
    placed = defaultdict(list)
    for outcome in result.outcomes.values():
        if outcome.status == Status.ALLOCATED:
            placed[outcome.offer_id].append(outcome.application_id)
    return placed


def standing_at(outcome, offer_id):
    return next(o for o in outcome.explanation.offers if o.offer_id == offer_id)


def oracle_admits(offer, policy, candidates) -> set[str]:
    """The reserve-then-open choice rule, restated independently for single children.

    candidates: (order key, criterion labels met, application id).
    """
    ordered = sorted(candidates)
    admitted: set[str] = set()
    reserved_taken = 0
    for reserve in policy.reserved_shares:
        seats = int(offer.capacity * reserve.share)
        qualifying = [c for c in ordered if c[2] not in admitted and reserve.criterion.label in c[1]][:seats]
        admitted |= {c[2] for c in qualifying}
        reserved_taken += len(qualifying)
    admitted |= {c[2] for c in [c for c in ordered if c[2] not in admitted][:offer.capacity - reserved_taken]}
    return admitted


def candidate(outcome, offer_id):
    standing = standing_at(outcome, offer_id)
    key = (standing.tier, outcome.explanation.tie_break, outcome.application_id)
    return key, set(standing.criteria_met), outcome.application_id


@property_settings
@given(st.one_of(instances(), crowded_instances(siblings=True)))
def test_capacities_hold_and_each_child_has_at_most_one_place(instance):
    policy, offers, applications, seed = instance
    result = allocate(policy, offers, applications, seed)
    for offer in offers:
        assert len(placed_at(result)[offer.offer_id]) <= offer.capacity
    child_of = {a.application_id: a.child_id for a in applications}
    places_per_child = Counter(child_of[o.application_id] for o in result.outcomes.values()
                               if o.status == Status.ALLOCATED)
    assert max(places_per_child.values(), default=0) <= 1
    assert set(result.outcomes) == {a.application_id for a in applications}


@property_settings
@given(st.one_of(instances(groups=False), crowded_instances(reserves=True)))
def test_no_justified_envy_without_sibling_groups(instance):
    """No child is refused an offer they ranked above their place if the offer's choice rule would
    take them over its holders: with no reserve, no holder ordered after them and no empty seat."""
    policy, offers, applications, seed = instance
    result = allocate(policy, offers, applications, seed)
    holders = placed_at(result)
    for outcome in result.outcomes.values():
        for standing in outcome.explanation.offers:
            if standing.standing != Standing.NOT_ADMITTED:
                continue
            offer = next(o for o in offers if o.offer_id == standing.offer_id)
            rivals = [candidate(result.outcomes[h], offer.offer_id) for h in holders[offer.offer_id]]
            assert outcome.application_id not in oracle_admits(
                offer, policy, rivals + [candidate(outcome, offer.offer_id)])


@settings(property_settings, max_examples=400)  # a displaced group is a rare sequence of events
@given(st.one_of(instances(reserves=False), crowded_instances(siblings=True)))
def test_no_seat_is_left_that_someone_ranked_higher_could_take(instance):
    """Sibling groups included: a unit that prefers an offer never fits in its empty seats."""
    policy, offers, applications, seed = instance
    result = allocate(policy, offers, applications, seed)
    holders = placed_at(result)
    for outcome in result.outcomes.values():
        unit_size = len(outcome.explanation.sibling_group) or 1
        for standing in outcome.explanation.offers:
            if standing.standing == Standing.NOT_ADMITTED:
                offer = next(o for o in offers if o.offer_id == standing.offer_id)
                assert offer.capacity - len(holders[offer.offer_id]) < unit_size


@property_settings
@given(st.one_of(instances(), crowded_instances(siblings=True)))
def test_siblings_kept_together_share_one_fate(instance):
    policy, offers, applications, seed = instance
    result = allocate(policy, offers, applications, seed)
    for outcome in result.outcomes.values():
        group = outcome.explanation.sibling_group
        if not group:
            continue
        assert policy.keep_siblings_together
        fates = {(result.outcomes[m].status, result.outcomes[m].offer_id) for m in group}
        assert len(fates) == 1
        for entry in outcome.waitlist:
            positions = sorted(next(e.position for e in result.outcomes[m].waitlist if e.offer_id == entry.offer_id)
                               for m in group)
            assert positions == list(range(positions[0], positions[0] + len(group)))


@property_settings
@given(instances())
def test_waitlists_are_numbered_from_one_within_their_limit(instance):
    policy, offers, applications, seed = instance
    result = allocate(policy, offers, applications, seed)
    positions = defaultdict(list)
    for outcome in result.outcomes.values():
        ranking = [standing.offer_id for standing in outcome.explanation.offers]
        for entry in outcome.waitlist:
            positions[entry.offer_id].append(entry.position)
            if outcome.status == Status.ALLOCATED:
                assert ranking.index(entry.offer_id) < ranking.index(outcome.offer_id)
    for offer in offers:
        assert sorted(positions[offer.offer_id]) == list(range(1, len(positions[offer.offer_id]) + 1))
        if offer.waitlist_limit is not None:
            assert len(positions[offer.offer_id]) <= offer.waitlist_limit


@property_settings
@given(st.one_of(instances(), crowded_instances(siblings=True)), st.randoms(use_true_random=False))
def test_same_inputs_and_seed_give_the_same_result_in_any_input_order(instance, shuffler: random.Random):
    policy, offers, applications, seed = instance
    expected = allocate(policy, offers, applications, seed)
    shuffled_offers, shuffled_applications = list(offers), list(applications)
    shuffler.shuffle(shuffled_offers)
    shuffler.shuffle(shuffled_applications)
    assert allocate(policy, shuffled_offers, shuffled_applications, seed) == expected


@property_settings
@given(instances(groups=False, reserves=False, truncation=False, duplicates=False,
                 modes=(AllocationMode.FIRST_COME, AllocationMode.LOTTERY)))
def test_with_one_order_everywhere_it_is_serial_dictatorship(instance):
    policy, offers, applications, seed = instance
    result = allocate(policy, offers, applications, seed)

    def turn(a):
        if policy.mode == AllocationMode.FIRST_COME:
            return a.arrival_position
        return lottery_number(seed, a.application_id,
                              1 + policy.lottery_weight_per_unsuccessful_year * a.facts.unsuccessful_earlier_years)

    seats = {o.offer_id: o.capacity for o in offers}
    by_id = {o.offer_id: o for o in offers}
    for a in sorted(applications, key=lambda a: (turn(a), a.application_id)):
        takes = next((o for o in a.choices if seats[o] and by_id[o].min_age <= a.age_at_reference_date
                      <= by_id[o].max_age), None)
        if takes is not None:
            seats[takes] -= 1
        assert result.outcomes[a.application_id].offer_id == takes


@settings(property_settings, max_examples=80)
@given(st.one_of(instances(groups=False, sibling_placed=False, truncation=False, max_applications=6),
                 crowded_instances(), crowded_instances(reserves=True)))
def test_no_child_gains_by_misreporting_their_ranking(instance):
    policy, offers, applications, seed = instance
    truthful = allocate(policy, offers, applications, seed)
    for index, child in enumerate(applications):
        def preference(offer_id, child=child):
            return child.choices.index(offer_id) if offer_id is not None else len(child.choices)
        truthful_place = preference(truthful.outcomes[child.application_id].offer_id)
        for ranking in itertools.permutations(child.choices):
            lying = applications[:index] + [replace(child, choices=ranking)] + applications[index + 1:]
            place = allocate(policy, offers, lying, seed).outcomes[child.application_id].offer_id
            assert preference(place) >= truthful_place
