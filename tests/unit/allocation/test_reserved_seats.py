"""Reserved shares: seats kept first for applicants meeting a criterion, released when unused."""
from services.allocation.domain import PriorityCriterion, ReservedShare, ReserveUse, allocate
from tests.support.allocation_builders import SEED, application, lottery_order, offer, policy

TRANCHES_1_TO_3 = PriorityCriterion("quotient_tranche_at_most", 3)
SINGLE_PARENT = PriorityCriterion("single_parent")


def reserve(criterion, share):
    return ReservedShare(criterion, share)


def placed(result, offer_id="judo"):
    return {o.application_id for o in result.outcomes.values() if o.offer_id == offer_id}


def test_reserved_seats_go_to_the_best_qualifying_applicants_even_with_the_worst_numbers():
    ids = lottery_order(*"abcdefg")
    modest = set(ids[-2:])  # the two unluckiest
    applications = [application(i, "judo", quotient_tranche=2 if i in modest else 8) for i in ids]
    reserving = policy("lottery", reserved_shares=[reserve(TRANCHES_1_TO_3, "2/5")])
    result = allocate(reserving, [offer("judo", 5)], applications, SEED)
    assert placed(result) == modest | set(ids[:3])
    assert result.statistics.offers[0].reserves == (ReserveUse("quotient_tranche_at_most(3)", 2, 2),)


def test_reserved_seats_nobody_qualifying_claims_are_released_to_everyone():
    ids = lottery_order(*"abcdefg")
    applications = [application(i, "judo", quotient_tranche=2 if i == ids[-1] else 8) for i in ids]
    reserving = policy("lottery", reserved_shares=[reserve(TRANCHES_1_TO_3, "2/5")])
    result = allocate(reserving, [offer("judo", 5)], applications, SEED)
    assert placed(result) == {ids[-1], *ids[:4]}
    assert result.statistics.offers[0].reserves == (ReserveUse("quotient_tranche_at_most(3)", 2, 1),)


def test_qualifying_applicants_take_reserved_seats_first_leaving_open_seats_to_the_others():
    """Reserves are filled before open seats: the luckiest single parent does not use up an open seat."""
    first, second, third = lottery_order("a", "b", "c")
    applications = [application(first, "judo", single_parent=True), application(second, "judo", single_parent=True),
                    application(third, "judo")]
    result = allocate(policy("lottery", reserved_shares=[reserve(SINGLE_PARENT, "1/2")]),
                      [offer("judo", 2)], applications, SEED)
    assert placed(result) == {first, second}
    cutoffs = result.outcomes[third].explanation.offers[0].cutoffs
    assert [(c.seats, c.tie_break) for c in cutoffs] == [
        ("single_parent", result.outcomes[first].explanation.tie_break),
        ("open", result.outcomes[second].explanation.tie_break)]


def test_reserves_are_filled_in_the_policys_order_and_one_applicant_takes_one_seat():
    ids = lottery_order(*"abcd")
    both, modest_only = ids[-1], ids[-2]
    applications = [application(both, "judo", quotient_tranche=1, single_parent=True),
                    application(modest_only, "judo", quotient_tranche=1),
                    *[application(i, "judo") for i in ids[:2]]]
    reserving = policy("lottery", reserved_shares=[reserve(SINGLE_PARENT, "1/4"), reserve(TRANCHES_1_TO_3, "1/4")])
    result = allocate(reserving, [offer("judo", 4)], applications, SEED)
    assert [r.taken for r in result.statistics.offers[0].reserves] == [1, 1]
    assert placed(result) == set(ids)


def test_a_share_smaller_than_one_seat_reserves_nothing():
    reserving = policy("lottery", reserved_shares=[reserve(SINGLE_PARENT, "1/5")])
    result = allocate(reserving, [offer("judo", 4)], [application("a", "judo")], SEED)
    assert result.statistics.offers[0].reserves == (ReserveUse("single_parent", 0, 0),)
