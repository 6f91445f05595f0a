"""Hard eligibility, checked per choice before anything is allocated."""
from services.allocation.domain import Reason, ReasonCode, Status, allocate
from tests.support.allocation_builders import SEED, application, offer, policy


def test_a_choice_the_child_is_too_young_or_too_old_for_is_dropped_and_the_next_one_allocated():
    offers = [offer("judo", min_age=10, max_age=12), offer("escalade", min_age=6, max_age=9),
              offer("voile", min_age=6, max_age=8)]
    outcome = allocate(policy(), offers, [application("a", "judo", "voile", "escalade", age=9)], SEED).outcomes["a"]
    assert (outcome.status, outcome.offer_id) == (Status.ALLOCATED, "escalade")
    assert outcome.reasons == (Reason(ReasonCode.TOO_YOUNG, "judo"), Reason(ReasonCode.TOO_OLD, "voile"))
    assert [o.offer_id for o in outcome.explanation.offers] == ["escalade"]
    assert outcome.explanation.offers[0].rank == 3


def test_an_application_without_any_eligible_choice_is_rejected_with_every_reason():
    outcome = allocate(policy(residence_required_arrondissements={11, 12}), [offer("judo", max_age=10)],
                       [application("a", "judo", "piscine", age=11, residence_arrondissement=None)],
                       SEED).outcomes["a"]
    assert outcome.status == Status.REJECTED
    assert outcome.reasons == (Reason(ReasonCode.TOO_OLD, "judo"), Reason(ReasonCode.UNKNOWN_OFFER, "piscine"))
    assert outcome.explanation.tie_break is None and outcome.explanation.offers == ()


def test_a_campaign_for_some_arrondissements_refuses_the_others():
    required = policy(residence_required_arrondissements=[11])
    outcomes = allocate(required, [offer("judo", 2)], [application("paris-11", "judo", residence_arrondissement=11),
                                                       application("paris-15", "judo", residence_arrondissement=15),
                                                       application("outside", "judo")], SEED).outcomes
    assert outcomes["paris-11"].status == Status.ALLOCATED
    assert outcomes["paris-15"].reasons == outcomes["outside"].reasons == (
        Reason(ReasonCode.RESIDENCE_NOT_ACCEPTED, "judo"),)


def test_choices_beyond_the_maximum_or_repeated_are_dropped():
    offers = [offer("a"), offer("b"), offer("c")]
    outcome = allocate(policy(max_choices=2), offers, [application("x", "a", "a", "b", "c")], SEED).outcomes["x"]
    assert outcome.reasons == (Reason(ReasonCode.DUPLICATE_CHOICE, "a"), Reason(ReasonCode.BEYOND_MAX_CHOICES, "c"))
    assert [o.offer_id for o in outcome.explanation.offers] == ["a", "b"]


def test_an_empty_list_is_rejected():
    outcome = allocate(policy(), [offer("judo")], [application("a")], SEED).outcomes["a"]
    assert (outcome.status, outcome.reasons) == (Status.REJECTED, (Reason(ReasonCode.NO_CHOICE),))


def test_a_second_application_for_the_same_child_is_rejected_and_the_earliest_takes_part():
    outcomes = allocate(policy("fcfs"), [offer("judo", 5)],
                        [application("later", "judo", child="lea", arrival=9),
                         application("earlier", "judo", child="lea", arrival=2)]).outcomes
    assert outcomes["earlier"].status == Status.ALLOCATED
    assert (outcomes["later"].status, outcomes["later"].reasons) == (
        Status.REJECTED, (Reason(ReasonCode.DUPLICATE_CHILD),))
