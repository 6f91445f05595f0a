"""What a parent reads, and the campaign's statistics."""
from services.allocation.domain import (
    Cutoff,
    OfferStatistics,
    PriorityCriterion,
    Standing,
    Status,
    allocate,
    describe,
    format_number,
)
from tests.support.allocation_builders import SEED, application, lottery_order, offer, policy

SINGLE_PARENT = PriorityCriterion("single_parent")


def campaign():
    lucky, unlucky = lottery_order("a", "b")
    applications = [application("winner", "judo", "voile", single_parent=True),
                    application(unlucky, "judo", "voile"), application(lucky, "judo", "voile"),
                    application("too-old", "judo", age=15)]
    offers = [offer("judo", 1, max_age=12), offer("voile", 1, waitlist_limit=5)]
    return lucky, unlucky, allocate(policy("priority_lottery", SINGLE_PARENT), offers, applications, SEED)


def test_not_placed_at_an_offer_shows_who_was_admitted_last_and_how_you_compared():
    lucky, unlucky, result = campaign()
    judo, voile = result.outcomes[unlucky].explanation.offers
    winner_number = result.outcomes["winner"].explanation.tie_break
    assert (judo.standing, judo.tier, judo.cutoffs) == (Standing.NOT_ADMITTED, 2, (Cutoff("open", 1, winner_number),))
    lucky_number = result.outcomes[lucky].explanation.tie_break
    assert (voile.standing, voile.cutoffs) == (Standing.NOT_ADMITTED, (Cutoff("open", 2, lucky_number),))
    assert (judo.waitlist_position, voile.waitlist_position) == (2, 1)


def test_the_winner_sees_its_place_and_the_lower_choice_it_did_not_need():
    _, _, result = campaign()
    judo, voile = result.outcomes["winner"].explanation.offers
    assert (judo.standing, judo.criteria_met, judo.cutoffs) == (Standing.ADMITTED, ("single_parent",), ())
    assert voile.standing == Standing.NOT_NEEDED


def test_the_plain_text_says_why_in_the_parents_terms():
    _, unlucky, result = campaign()
    text = describe(result.outcomes[unlucky])
    winner_number = format_number(result.outcomes["winner"].explanation.tie_break)
    assert "Not placed yet: on the waitlists below." in text
    assert ("Choice 1, judo (tier 2: no priority criterion): not placed. You had tier 2 and lottery number 0x"
            in text)
    assert f"the last admitted on its open seats had tier 1 and lottery number 0x{winner_number[:16]}…" in text
    assert "You are number 2 on its waitlist." in text
    assert "judo: the child is too old for it." in describe(result.outcomes["too-old"])


def test_statistics_count_places_fill_rates_waitlists_and_tiers():
    _, _, result = campaign()
    statistics = result.statistics
    assert (statistics.applications, statistics.allocated, statistics.waitlisted, statistics.rejected) == (4, 2, 1, 1)
    assert statistics.offers == (OfferStatistics("judo", 1, 1, 1.0, 2, ()), OfferStatistics("voile", 1, 1, 1.0, 1, ()))
    assert statistics.placed_by_tier == {1: 1, 2: 1}
    assert result.outcomes["too-old"].status == Status.REJECTED


def test_an_offer_without_seats_has_a_fill_rate_of_zero():
    result = allocate(policy(), [offer("closed", 0)], [application("a", "closed")], SEED)
    assert result.statistics.offers[0].fill_rate == 0.0
    assert "it had no seats" in describe(result.outcomes["a"])
