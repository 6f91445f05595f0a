"""What the faster allocation core relies on, checked directly (issue 5).

test_performance_equivalence.py compares whole results with saved ones; these check the pieces
that could go wrong silently: the bulk lottery, the result objects built without their __init__,
the tables used when a policy has many criteria, and the garbage collector left as it was found.
"""
from __future__ import annotations

import dataclasses
import gc
import random
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.allocation.domain import (
    Application,
    CampaignPolicy,
    Facts,
    Offer,
    PriorityCriterion,
    ReservedShare,
    allocate,
    lottery_number,
)
from services.allocation.domain.lottery import Drawer
from services.allocation.domain.priorities import criteria_met, tier
from tests.support.allocation_builders import SEED, instances, property_settings

ALLOCATE_MODULE = sys.modules["services.allocation.domain.allocate"]


@property_settings
@given(st.binary(max_size=100), st.lists(st.text(max_size=40), max_size=5), st.data())
def test_bulk_lottery_numbers_are_the_published_ones(seed, application_ids, data):
    counts = data.draw(st.lists(st.integers(1, 4), min_size=len(application_ids), max_size=len(application_ids)))
    assert Drawer(seed).numbers(application_ids, counts) == [
        lottery_number(seed, application_id, count) for application_id, count in zip(application_ids, counts)]


@property_settings
@given(instances())
def test_result_objects_are_those_their_constructors_make(instance):
    result = allocate(*instance)
    for outcome in result.outcomes.values():
        made = [outcome, outcome.explanation, *outcome.explanation.offers, *outcome.waitlist]
        for value in made:
            rebuilt = dataclasses.replace(value)  # through the generated __init__
            assert rebuilt == value and repr(rebuilt) == repr(value) and hash(rebuilt) == hash(value)
            assert list(vars(value)) == [field.name for field in dataclasses.fields(value)]


def test_a_policy_with_many_criteria_explains_tiers_and_criteria_as_the_rules_say():
    """More than twelve criteria: the core's tables of tiers and labels become dictionaries."""
    criteria = (*(PriorityCriterion("quotient_tranche_at_most", n) for n in range(1, 11)), PriorityCriterion("single_parent"),
                PriorityCriterion("disability_allowance"), PriorityCriterion("resident_of_offer_arrondissement"))
    policy = CampaignPolicy("priority_lottery", criteria, reserved_shares=(
        ReservedShare(PriorityCriterion("not_placed_previous_campaign"), "1/4"),))
    rng = random.Random(7)
    offers = {f"o{n}": Offer(f"o{n}", rng.randint(0, 4), rng.randint(1, 3), 3, 17) for n in range(6)}
    applications = [
        Application(f"app-{n:03d}", f"child-{n}", f"family-{n}", 8, tuple(rng.sample(sorted(offers), 3)),
                    Facts(single_parent=rng.random() < 0.5, quotient_tranche=rng.choice([None, *range(1, 11)]),
                          disability_allowance=rng.random() < 0.3, residence_arrondissement=rng.randint(1, 3),
                          not_placed_previous_campaign=rng.random() < 0.5), n)
        for n in range(60)]
    result = allocate(policy, offers.values(), applications, SEED)
    assert len(policy.criteria_in_use) > 12
    for application in applications:
        for explained in result.outcomes[application.application_id].explanation.offers:
            met = criteria_met(application, offers[explained.offer_id], policy.criteria_in_use, frozenset())
            assert explained.criteria_met == tuple(c.label for c in policy.criteria_in_use if c in met)
            assert explained.tier == tier(met, policy.ranking_criteria)


@pytest.fixture
def large_campaigns_from_one_application(monkeypatch):
    """The collector's treatment of a large allocation, without building a large campaign."""
    monkeypatch.setattr(ALLOCATE_MODULE, "_PROMOTE_FROM", 1)


@pytest.mark.parametrize("size", ["small", "large"])
def test_the_garbage_collector_is_left_as_it_was_found(size, request):
    if size == "large":
        request.getfixturevalue("large_campaigns_from_one_application")
    policy, offers, applications, seed = campaign()
    was_enabled = gc.isenabled()
    try:
        gc.enable()
        allocate(policy, offers, applications, seed)
        assert gc.isenabled()
        gc.disable()
        allocate(policy, offers, applications, seed)
        assert not gc.isenabled()
    finally:
        (gc.enable if was_enabled else gc.disable)()


def test_objects_frozen_by_the_process_stay_frozen(large_campaigns_from_one_application):
    if gc.get_freeze_count():
        pytest.skip("this process already keeps frozen objects")
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        allocate(*campaign())
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def campaign():
    offers = [Offer("judo", 1, 11, 3, 17), Offer("voile", 2, 12, 3, 17)]
    applications = [Application(f"app-{n}", f"child-{n}", "family", 8, ("judo", "voile"), Facts(), n)
                    for n in range(5)]
    return CampaignPolicy("lottery"), offers, applications, SEED
