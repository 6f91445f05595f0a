"""Validation of the inputs, and the age rule."""
import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from services.allocation.domain import CampaignPolicy, Facts, PriorityCriterion, ReservedShare, allocate
from shared.domain.ages import age_on
from shared.domain.policy import AllocationMode
from tests.support.allocation_builders import application, offer, policy

TRANCHES_1_TO_3 = PriorityCriterion("quotient_tranche_at_most", 3)


@pytest.mark.parametrize("name, max_tranche", [
    ("quotient_tranche_at_most", None), ("quotient_tranche_at_most", 0), ("quotient_tranche_at_most", 11),
    ("single_parent", 3), ("twins", None)])
def test_a_criterion_takes_a_tranche_if_and_only_if_it_is_about_the_quotient(name, max_tranche):
    with pytest.raises(ValueError):
        PriorityCriterion(name, max_tranche)


@pytest.mark.parametrize("share, capacity, seats", [
    (0.29, 100, 29),  # 0.29 * 100 is 28.999999999999996 in floating point
    (Decimal("0.20"), 16, 3),  # 3.2, rounded down
    ("1/3", 10, 3),
    (Fraction(1, 5), 4, 0),
    (1, 7, 7)])
def test_reserved_seats_are_the_exact_share_of_the_capacity_rounded_down(share, capacity, seats):
    assert ReservedShare(TRANCHES_1_TO_3, share).seats(capacity) == seats


@pytest.mark.parametrize("share", [0, -0.1, 1.5])
def test_a_reserved_share_is_within_zero_excluded_and_one(share):
    with pytest.raises(ValueError):
        ReservedShare(TRANCHES_1_TO_3, share)


def test_a_policy_refuses_reserves_above_the_capacity_and_repeated_criteria():
    with pytest.raises(ValueError, match="more than the whole capacity"):
        CampaignPolicy("lottery", reserved_shares=(ReservedShare(TRANCHES_1_TO_3, "0.6"),
                                                   ReservedShare(PriorityCriterion("single_parent"), "0.5")))
    with pytest.raises(ValueError, match="twice"):
        CampaignPolicy("priority_lottery", criteria=(TRANCHES_1_TO_3, TRANCHES_1_TO_3))


def test_only_priority_lottery_ranks_by_criteria():
    criteria = (PriorityCriterion("single_parent"),)
    assert CampaignPolicy("priority_lottery", criteria).ranking_criteria == criteria
    assert CampaignPolicy("lottery", criteria).ranking_criteria == ()
    assert CampaignPolicy("fcfs", criteria).mode is AllocationMode.FIRST_COME


@pytest.mark.parametrize("birth, reference, age", [
    (dt.date(2016, 7, 14), dt.date(2026, 7, 14), 10),
    (dt.date(2016, 7, 15), dt.date(2026, 7, 14), 9),
    (dt.date(2016, 2, 29), dt.date(2025, 2, 28), 8),
    (dt.date(2016, 2, 29), dt.date(2025, 3, 1), 9)])
def test_age_counts_whole_years_completed_on_the_reference_date(birth, reference, age):
    assert age_on(birth, reference) == age


def test_facts_refuse_a_tranche_outside_one_to_ten():
    with pytest.raises(ValueError):
        Facts(quotient_tranche=11)


def test_ids_must_be_unique_and_a_lottery_needs_its_seed():
    with pytest.raises(ValueError, match="offers share an id"):
        allocate(policy("fcfs"), [offer("o"), offer("o")], [])
    with pytest.raises(ValueError, match="applications share an id"):
        allocate(policy("fcfs"), [offer("o")], [application("a", "o"), application("a", "o")])
    with pytest.raises(ValueError, match="seed"):
        allocate(policy("lottery"), [offer("o")], [application("a", "o")])
