"""sibling_placed: earned at an offer where the preliminary pass placed a brother or sister."""
from services.allocation.domain import PriorityCriterion, allocate
from tests.support.allocation_builders import SEED, application, lottery_order, offer, policy

DISABILITY, SIBLING_PLACED = PriorityCriterion("disability_allowance"), PriorityCriterion("sibling_placed")


def test_a_child_whose_sibling_was_placed_there_in_the_preliminary_pass_goes_before_other_children():
    lucky, unlucky = lottery_order("b", "c")  # the preliminary pass gives the second seat to `lucky`
    applications = [application("a", "judo", "voile", family="martin", child="anna", disability_allowance=True),
                    application(unlucky, "judo", "voile", family="martin", child="basile"),
                    application(lucky, "judo", "voile", family="dupont")]
    sibling_first = policy("priority_lottery", DISABILITY, SIBLING_PLACED)
    outcomes = allocate(sibling_first, [offer("judo", 2), offer("voile", 2)], applications, SEED).outcomes
    assert (outcomes["a"].offer_id, outcomes[unlucky].offer_id, outcomes[lucky].offer_id) == ("judo", "judo", "voile")
    assert [(o.offer_id, o.criteria_met) for o in outcomes[unlucky].explanation.offers] == [
        ("judo", ("sibling_placed",)), ("voile", ())]


def test_the_same_child_in_two_applications_is_not_its_own_sibling():
    applications = [application("a", "judo", family="martin", child="anna", arrival=1),
                    application("b", "judo", family="martin", child="anna", arrival=2)]
    outcomes = allocate(policy("priority_lottery", SIBLING_PLACED), [offer("judo", 2)], applications, SEED).outcomes
    assert outcomes["a"].explanation.offers[0].criteria_met == ()
