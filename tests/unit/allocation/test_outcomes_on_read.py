"""The core's outcomes are rendered when read (issue 18): reading them one by one, in any order, or all at once
gives the same outcomes, and the counts the statistics take without rendering them are those of the outcomes. A
draw writes from the facts the core keeps (`Outcomes.decided`) what it wrote from the outcomes."""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import pytest

from services.allocation.domain import (
    AllocationResult,
    Application,
    Facts,
    ReasonCode,
    Status,
    allocate,
    result_records,
)
from services.allocation.store.result_documents import ResultDocuments, statistics_document
from tests.unit.allocation.test_results_pinned import PINNED, inputs


@pytest.mark.parametrize("name", PINNED)
def test_each_outcome_read_alone_is_the_one_read_with_the_others(name):
    everything = dict(allocate(*inputs(name)).outcomes.items())
    fresh = allocate(*inputs(name)).outcomes
    ids = list(everything)
    random.Random(7).shuffle(ids)
    assert {application_id: fresh[application_id] for application_id in ids} == everything
    assert list(fresh) == sorted(everything) and len(fresh) == len(everything)
    assert fresh == everything and repr(fresh) == repr(everything)


@pytest.mark.parametrize("name", PINNED)
def test_the_statistics_count_the_statuses_of_the_outcomes(name):
    result = allocate(*inputs(name))
    counted = Counter(outcome.status for outcome in result.outcomes.values())
    statistics = result.statistics
    assert (statistics.allocated, statistics.waitlisted, statistics.rejected) == (
        counted[Status.ALLOCATED], counted[Status.WAITLISTED], counted[Status.REJECTED])
    assert counted[Status.REJECTED] > 0  # waitlist limits and mistaken choices leave some out


def test_an_application_never_drawn_and_one_told_a_fact_did_not_count():
    policy, offers, applications, seed = inputs("priority_lottery")
    policy = replace(policy, requires_validated_facts=True)
    declared = replace(applications[0], facts=Facts(disability_allowance=True))
    nowhere = Application("00000000-0000-4000-8000-000000000000", "child-nowhere", "family-nowhere", 8,
                          ("no-such-offer",), Facts(), 99_999)
    outcomes = allocate(policy, offers, [declared, *applications[1:], nowhere], seed).outcomes
    assert outcomes[nowhere.application_id].status == Status.REJECTED
    assert [reason.code for reason in outcomes[nowhere.application_id].reasons] == [ReasonCode.UNKNOWN_OFFER]
    told = outcomes[declared.application_id].reasons[-1]
    assert (told.code, told.criterion) == (ReasonCode.FACT_NOT_VALIDATED, "disability_allowance")
    assert nowhere.application_id in outcomes and "someone-else" not in outcomes


@pytest.mark.parametrize("name", PINNED)
def test_a_draw_writes_from_the_facts_what_it_wrote_from_the_outcomes(name):
    """Decisions' documents (compact and whole), the bundle's results and the statistics from `Outcomes.decided()`
    are those made from the rendered outcomes, whose documents `test_stored_explanations.py` pins."""
    result = allocate(*inputs(name))
    rendered = AllocationResult(dict(result.outcomes.items()), result.statistics)
    for compact in (True, False):
        from_facts, from_outcomes = ResultDocuments(compact=compact), ResultDocuments(compact=compact)
        assert [from_facts.decided(facts) for facts in result.outcomes.decided()] == \
            [from_outcomes.decision(outcome) for outcome in rendered.outcomes.values()]
        assert from_facts.cutoffs == from_outcomes.cutoffs
    assert result_records(result) == result_records(rendered)
    assert statistics_document(result) == statistics_document(rendered)


def test_outcomes_renamed_are_told_with_the_new_ids_in_the_order_given():
    policy, offers, applications, seed = inputs("priority_lottery")
    outcomes = allocate(policy, offers, applications, seed).outcomes
    told = {f"real-{application.application_id}": application.application_id for application in applications}
    renamed = outcomes.renamed(told)
    assert list(renamed) == list(told) and len(renamed) == len(outcomes)
    grouped = 0
    for real_id, given in told.items():
        outcome, original = renamed[real_id], outcomes[given]
        assert outcome.application_id == real_id
        assert outcome.explanation.sibling_group == tuple(f"real-{member}"
                                                          for member in original.explanation.sibling_group)
        grouped += bool(outcome.explanation.sibling_group)
        assert replace(outcome, application_id=given, explanation=replace(
            outcome.explanation, sibling_group=original.explanation.sibling_group)) == original
    assert grouped
    assert [facts.application_id for facts in renamed.decided()] == list(told)
