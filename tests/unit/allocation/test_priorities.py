"""Tiers from the ordered criteria, and the tie-break inside a tier."""
import pytest

from services.allocation.domain import PriorityCriterion, TieBreak, allocate, lottery_number
from services.allocation.domain.priorities import tier
from tests.support.allocation_builders import SEED, application, lottery_order, offer, policy

SINGLE_PARENT = PriorityCriterion("single_parent")
RESIDENT = PriorityCriterion("resident_of_offer_arrondissement")
TRANCHES_1_TO_3 = PriorityCriterion("quotient_tranche_at_most", 3)


@pytest.mark.parametrize("met, expected", [
    ({SINGLE_PARENT, RESIDENT}, 1), ({SINGLE_PARENT}, 2), ({RESIDENT}, 3), (set(), 4)])
def test_tiers_are_lexicographic_over_the_criteria_most_important_first(met, expected):
    assert tier(frozenset(met), (SINGLE_PARENT, RESIDENT)) == expected


def test_a_higher_tier_beats_a_luckier_number():
    lucky, unlucky = lottery_order("a", "b")
    applications = [application(lucky, "judo"), application(unlucky, "judo", single_parent=True)]
    outcomes = allocate(policy("priority_lottery", SINGLE_PARENT), [offer("judo")], applications, SEED).outcomes
    assert outcomes[unlucky].offer_id == "judo" and outcomes[lucky].offer_id is None
    assert [(o.tier, o.criteria_met) for o in outcomes[unlucky].explanation.offers] == [(1, ("single_parent",))]
    assert [(o.tier, o.criteria_met) for o in outcomes[lucky].explanation.offers] == [(2, ())]


def test_a_plain_lottery_puts_everyone_in_one_tier_whatever_criteria_are_listed():
    lucky, unlucky = lottery_order("a", "b")
    applications = [application(lucky, "judo"), application(unlucky, "judo", single_parent=True)]
    outcomes = allocate(policy("lottery", SINGLE_PARENT), [offer("judo")], applications, SEED).outcomes
    assert outcomes[lucky].offer_id == "judo"
    assert outcomes[unlucky].explanation.offers[0].tier == 1


def test_residence_counts_at_the_offers_in_the_childs_arrondissement_only():
    offers = [offer("paris-11", arrondissement=11), offer("paris-15", arrondissement=15)]
    applications = [application(name, "paris-15", "paris-11", residence_arrondissement=home)
                    for name, home in [("from-11", 11), ("from-15", 15)]]
    outcomes = allocate(policy("priority_lottery", RESIDENT), offers, applications, SEED).outcomes
    assert outcomes["from-15"].offer_id == "paris-15" and outcomes["from-11"].offer_id == "paris-11"
    assert [o.tier for o in outcomes["from-11"].explanation.offers] == [2, 1]


@pytest.mark.parametrize("tranche, qualifies", [(1, True), (3, True), (4, False), (None, False)])
def test_a_family_without_a_quotient_on_file_is_in_tranche_10(tranche, qualifies):
    outcome = allocate(policy("priority_lottery", TRANCHES_1_TO_3), [offer("judo")],
                       [application("a", "judo", quotient_tranche=tranche)], SEED).outcomes["a"]
    assert outcome.explanation.offers[0].criteria_met == (("quotient_tranche_at_most(3)",) if qualifies else ())


def test_first_come_first_served_follows_the_arrival_position_not_the_ids():
    applications = [application("a", "judo", arrival=20), application("b", "judo", arrival=10)]
    outcomes = allocate(policy("fcfs"), [offer("judo")], applications).outcomes
    assert outcomes["b"].offer_id == "judo"
    assert outcomes["a"].explanation.tie_break_kind == TieBreak.ARRIVAL
    assert (outcomes["b"].explanation.tie_break, outcomes["a"].explanation.tie_break) == (1, 2)


def test_earlier_unsuccessful_years_buy_extra_tickets_and_keep_the_best():
    weighted = policy("lottery", lottery_weight_per_unsuccessful_year=2)
    outcome = allocate(weighted, [offer("judo")], [application("a", "judo", unsuccessful_earlier_years=2)],
                       SEED).outcomes["a"]
    assert outcome.explanation.tickets == 5
    assert outcome.explanation.tie_break == lottery_number(SEED, "a", 5)
