"""Waitlists: in the offer's order, above a place held, within the offer's limit."""
from services.allocation.domain import PriorityCriterion, Reason, ReasonCode, Status, WaitlistPosition, allocate
from tests.support.allocation_builders import SEED, application, offer, policy


def test_a_placed_child_still_waits_for_the_offers_they_ranked_higher_and_only_those():
    applications = [application("first", "judo", arrival=1), application("second", "voile", "judo", "piscine",
                                                                          arrival=2)]
    offers = [offer("voile", 0), offer("judo", 1), offer("piscine", 1)]
    outcome = allocate(policy("fcfs"), offers, applications).outcomes["second"]
    assert (outcome.status, outcome.offer_id) == (Status.ALLOCATED, "piscine")
    assert outcome.waitlist == (WaitlistPosition("voile", 1), WaitlistPosition("judo", 1))


def test_a_waitlist_follows_the_offers_order_not_the_arrival_or_the_childs_list():
    applications = [application("early", "judo", arrival=1), application("late-single-parent", "judo", arrival=2,
                                                                          single_parent=True),
                    application("placed", "judo", arrival=0, single_parent=True)]
    outcomes = allocate(policy("priority_lottery", PriorityCriterion("single_parent")), [offer("judo", 1)],
                        applications, SEED).outcomes
    assert outcomes["placed"].offer_id == "judo"
    assert outcomes["late-single-parent"].waitlist == (WaitlistPosition("judo", 1),)
    assert outcomes["early"].waitlist == (WaitlistPosition("judo", 2),)


def test_beyond_the_limit_a_child_is_rejected_as_waitlist_full():
    applications = [application(f"a{n}", "judo", arrival=n) for n in range(4)]
    outcomes = allocate(policy("fcfs"), [offer("judo", 1, waitlist_limit=2)], applications).outcomes
    assert [outcomes[f"a{n}"].status for n in range(4)] == [
        Status.ALLOCATED, Status.WAITLISTED, Status.WAITLISTED, Status.REJECTED]
    assert outcomes["a3"].reasons == (Reason(ReasonCode.WAITLIST_FULL, "judo"),)


def test_a_sibling_group_straddling_the_limit_stops_the_waitlist():
    applications = [application("single", "judo", arrival=0),
                    application("g1", "judo", arrival=1, group="g"), application("g2", "judo", arrival=2, group="g"),
                    application("after", "judo", arrival=3)]
    outcomes = allocate(policy("fcfs", keep_siblings_together=True), [offer("judo", 0, waitlist_limit=2)],
                        applications).outcomes
    assert [outcomes[i].waitlist for i in ("single", "g1", "g2", "after")] == [
        (WaitlistPosition("judo", 1),), (), (), ()]
