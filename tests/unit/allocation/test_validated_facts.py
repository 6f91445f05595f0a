"""A policy requiring validated facts (issue 16): a declared-only quotient tranche, single-parent status
or disability allowance counts as not met, the family is told why, and draws still verify."""
import json
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.allocation.domain import (
    Facts,
    PriorityCriterion,
    ReasonCode,
    ReservedShare,
    allocate,
    check_line,
    describe,
    line_record,
    sealed_draw,
    verify_draw,
)
from services.allocation.domain.bundle import facts_document
from tests.support.allocation_builders import (
    SEED,
    application,
    instances,
    lottery_order,
    offer,
    policy,
    property_settings,
)

TRANCHES_1_TO_3 = PriorityCriterion("quotient_tranche_at_most", 3)
SINGLE_PARENT = PriorityCriterion("single_parent")
DISABILITY = PriorityCriterion("disability_allowance")
SECRET = SEED + bytes(range(100, 132))


def test_facts_know_which_are_declared_only_and_count_only_the_validated_ones():
    facts = Facts(single_parent=True, quotient_tranche=2, disability_allowance=True,
                  validated=frozenset({"single_parent"}))
    assert facts.declared_only == {"quotient_tranche", "disability_allowance"}
    counted = facts.counted()
    assert (counted.single_parent, counted.quotient_tranche, counted.effective_tranche,
            counted.disability_allowance) == (True, None, 10, False)
    assert Facts(quotient_tranche=4, validated={"quotient_tranche"}).counted().quotient_tranche == 4
    assert Facts().declared_only == frozenset()  # nothing declared, nothing waiting for an agent
    with pytest.raises(ValueError):
        Facts(validated={"residence_arrondissement"})


@pytest.mark.parametrize("validated, qualifies", [(set(), False), ({"quotient_tranche"}, True)])
def test_a_declared_only_tranche_does_not_meet_the_criterion_when_the_policy_requires_validation(validated,
                                                                                              qualifies):
    lucky, unlucky = lottery_order("a", "b")
    applications = [application(lucky, "judo", quotient_tranche=8),
                    application(unlucky, "judo", quotient_tranche=2, validated=frozenset(validated))]
    required = policy("priority_lottery", TRANCHES_1_TO_3, requires_validated_facts=True)
    outcomes = allocate(required, [offer("judo")], applications, SEED).outcomes
    assert outcomes[unlucky].offer_id == ("judo" if qualifies else None)
    assert outcomes[unlucky].explanation.offers[0].criteria_met == (("quotient_tranche_at_most(3)",) if qualifies
                                                                    else ())
    told = [(r.code, r.criterion) for r in outcomes[unlucky].reasons if r.code == ReasonCode.FACT_NOT_VALIDATED]
    assert told == ([] if qualifies else [(ReasonCode.FACT_NOT_VALIDATED, "quotient_tranche_at_most(3)")])
    if not qualifies:
        assert ("quotient_tranche_at_most(3): criterion not counted: the fact was declared, not yet validated "
                "by a city agent.") in describe(outcomes[unlucky])
    # Without the requirement, the declared tranche counts as it always did.
    assert allocate(policy("priority_lottery", TRANCHES_1_TO_3), [offer("judo")], applications,
                    SEED).outcomes[unlucky].offer_id == "judo"


def test_reserved_seats_count_validated_facts_only_and_a_fact_that_would_not_qualify_is_not_reported():
    # Lottery with half the seats kept for the AEEH: only a validated allowance claims them.
    applications = [application("declared", "judo", disability_allowance=True, quotient_tranche=7),
                    application("validated", "judo", disability_allowance=True,
                                validated=frozenset({"disability_allowance"}))]
    required = policy("lottery", reserved_shares=(ReservedShare(DISABILITY, "1/2"),), requires_validated_facts=True)
    result = allocate(required, [offer("judo", 2)], applications, SEED)
    assert result.statistics.offers[0].reserves[0].taken == 1
    assert [(r.code, r.criterion) for r in result.outcomes["declared"].reasons] == [
        (ReasonCode.FACT_NOT_VALIDATED, "disability_allowance")]  # its tranche 7 is read by no criterion
    assert result.outcomes["validated"].reasons == ()


@property_settings
@given(instances(), st.data())
def test_requiring_validation_is_allocating_the_counted_facts(instance, data):
    """The oracle: the allocation of the facts as counted, by the same policy without the requirement."""
    the_policy, offers, applications, seed = instance
    some_validated = st.frozensets(st.sampled_from(("quotient_tranche", "single_parent", "disability_allowance")))
    applications = [replace(a, facts=replace(a.facts, validated=data.draw(some_validated))) for a in applications]
    required = replace(the_policy, requires_validated_facts=True)
    counted = [replace(a, facts=a.facts.counted()) for a in applications]
    expected = allocate(the_policy, offers, counted, seed)
    got = allocate(required, offers, applications, seed)
    assert got.statistics == expected.statistics
    for application_id, outcome in expected.outcomes.items():
        mine = got.outcomes[application_id]
        assert (mine.status, mine.offer_id, mine.waitlist, mine.explanation) == (
            outcome.status, outcome.offer_id, outcome.waitlist, outcome.explanation)
        assert tuple(r for r in mine.reasons if r.code != ReasonCode.FACT_NOT_VALIDATED) == outcome.reasons


def test_the_draw_bundle_publishes_what_counted_verifies_and_checks_every_line():
    applications = [application(f"0000000{n}-0000-4000-8000-00000000000{n}", "judo", "voile", arrival=n,
                                single_parent=n % 2 == 0, quotient_tranche=[2, 5, None][n % 3],
                                validated=frozenset({"single_parent"} if n % 4 == 0 else ()))
                    for n in range(8)]
    required = policy("priority_lottery", SINGLE_PARENT, TRANCHES_1_TO_3, requires_validated_facts=True)
    drawn = sealed_draw(required, [offer("judo", 2), offer("voile", 2, arrondissement=15)], applications, SECRET)
    bundle = json.loads(json.dumps(drawn.bundle))
    assert bundle["policy"]["requires_validated_facts"] is True
    assert verify_draw(bundle) == []
    published = {record["line"]: record["criteria_met"] for record in bundle["applications"]}
    for one in applications:
        own = line_record(one, SECRET)
        assert check_line(bundle, own["line"], bytes.fromhex(own["salt"]), own["facts"]) == []
        expected = ["single_parent"] if "single_parent" in one.facts.validated and one.facts.single_parent else []
        assert published[own["line"]] == expected  # declared-only facts are not published as met
    # The family reads why; the public bundle never says what a family declared.
    assert any(r.code == ReasonCode.FACT_NOT_VALIDATED for r in drawn.result.outcomes[applications[2].application_id]
               .reasons)
    assert "fact_not_validated" not in json.dumps(bundle["results"])


def test_a_facts_commitment_made_before_validated_facts_existed_still_matches():
    plain = application("a", "judo", single_parent=True)
    assert "validated" not in facts_document(plain)
    assert facts_document(replace(plain, facts=replace(plain.facts, validated=frozenset({"single_parent"}))))[
        "validated"] == ["single_parent"]
