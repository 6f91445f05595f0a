"""Siblings kept together: one unit needing one seat per child, placed or waitlisted together."""
from services.allocation.domain import PriorityCriterion, Reason, ReasonCode, Status, allocate, lottery_number
from tests.support.allocation_builders import SEED, application, offer, policy

TOGETHER = {"keep_siblings_together": True}


def sibling(application_id, *choices, **kwargs):
    return application(application_id, *choices, family="martin", group="martins", **kwargs)


def test_siblings_are_placed_together_at_the_first_applications_choice():
    applications = [sibling("elder", "judo", "voile", arrival=1), sibling("younger", "voile", arrival=2)]
    outcomes = allocate(policy("lottery", **TOGETHER), [offer("judo", 2), offer("voile", 2)],
                        applications, SEED).outcomes
    assert outcomes["elder"].offer_id == outcomes["younger"].offer_id == "judo"
    assert outcomes["younger"].explanation.sibling_group == ("elder", "younger")
    assert [o.rank for o in outcomes["younger"].explanation.offers] == [1, 2]


def test_without_keep_together_the_group_id_is_ignored():
    applications = [sibling("elder", "judo", arrival=1), sibling("younger", "voile", arrival=2)]
    outcomes = allocate(policy("lottery"), [offer("judo", 2), offer("voile", 2)], applications, SEED).outcomes
    assert (outcomes["elder"].offer_id, outcomes["younger"].offer_id) == ("judo", "voile")
    assert outcomes["elder"].explanation.sibling_group == ()


def test_a_group_that_does_not_fit_is_passed_over_and_waitlisted_on_adjacent_positions():
    group_ids = ["g1", "g2", "g3"]
    applications = [sibling(i, "judo", arrival=n) for n, i in enumerate(group_ids)] + [
        application("single", "judo", arrival=5)]
    outcomes = allocate(policy("fcfs", **TOGETHER), [offer("judo", 2)], applications).outcomes
    assert outcomes["single"].offer_id == "judo"
    assert [(outcomes[i].status, outcomes[i].waitlist[0].position) for i in group_ids] == [
        (Status.WAITLISTED, 1), (Status.WAITLISTED, 2), (Status.WAITLISTED, 3)]


def test_offers_that_cannot_take_every_member_are_dropped_for_the_group():
    applications = [sibling("elder", "ados", "mixte", age=13, arrival=1), sibling("younger", age=7, arrival=2)]
    offers = [offer("ados", 4, min_age=12, max_age=15), offer("mixte", 4, min_age=6, max_age=14)]
    outcomes = allocate(policy("lottery", **TOGETHER), offers, applications, SEED).outcomes
    assert outcomes["elder"].offer_id == outcomes["younger"].offer_id == "mixte"
    assert outcomes["elder"].reasons == (Reason(ReasonCode.SIBLING_NOT_ELIGIBLE, "ados"),)
    assert outcomes["younger"].reasons == (Reason(ReasonCode.TOO_YOUNG, "ados"),)


def test_siblings_no_ranked_offer_can_take_together_apply_alone():
    applications = [sibling("elder", "ados", age=13, arrival=1), sibling("younger", "petits", age=5, arrival=2)]
    offers = [offer("ados", 1, min_age=12, max_age=15), offer("petits", 1, min_age=4, max_age=6)]
    outcomes = allocate(policy("lottery", **TOGETHER), offers, applications, SEED).outcomes
    assert (outcomes["elder"].offer_id, outcomes["younger"].offer_id) == ("ados", "petits")
    assert outcomes["younger"].reasons == (Reason(ReasonCode.SIBLINGS_NOT_KEPT_TOGETHER),)


def test_a_group_meets_a_criterion_only_when_every_member_does():
    disability = PriorityCriterion("disability_allowance")
    applications = [sibling("elder", "judo", arrival=1, disability_allowance=True), sibling("younger", arrival=2)]
    outcome = allocate(policy("priority_lottery", disability, **TOGETHER), [offer("judo", 2)],
                       applications, SEED).outcomes["elder"]
    assert (outcome.explanation.offers[0].tier, outcome.explanation.offers[0].criteria_met) == (2, ())


def test_under_fcfs_a_group_arrives_with_its_last_member():
    applications = [sibling("elder", "judo", arrival=1), sibling("younger", "judo", arrival=5),
                    application("single", "judo", arrival=3)]
    outcomes = allocate(policy("fcfs", **TOGETHER), [offer("judo", 2)], applications).outcomes
    assert outcomes["single"].offer_id == "judo"
    assert outcomes["elder"].explanation.tie_break == 3  # the third application to arrive


def test_a_group_draws_one_number_its_first_applications_with_the_fewest_tickets():
    applications = [sibling("elder", "judo", arrival=1, unsuccessful_earlier_years=2),
                    sibling("younger", "judo", arrival=2, unsuccessful_earlier_years=1)]
    outcomes = allocate(policy("lottery", lottery_weight_per_unsuccessful_year=1, **TOGETHER),
                        [offer("judo", 2)], applications, SEED).outcomes
    assert outcomes["younger"].explanation.tie_break == lottery_number(SEED, "elder", 2)
    assert outcomes["younger"].explanation.tickets == 2


def test_seats_a_displaced_group_leaves_go_to_those_who_ranked_the_offer_higher():
    """fcfs order: first (1) < group (3) < late (4). The group holds judo when late is turned away;
    first then displaces the group, which no longer fits, leaving a seat late ranked above voile."""
    applications = [application("c-first", "judo", arrival=1),
                    sibling("a-group-1", "judo", arrival=2), sibling("a-group-2", "judo", arrival=3),
                    application("b-late", "judo", "voile", arrival=4)]
    outcomes = allocate(policy("fcfs", **TOGETHER), [offer("judo", 2), offer("voile", 1)], applications).outcomes
    assert (outcomes["c-first"].offer_id, outcomes["b-late"].offer_id) == ("judo", "judo")
    assert outcomes["a-group-1"].status == outcomes["a-group-2"].status == Status.WAITLISTED
