"""The core's outcomes are rendered when read (issue 18): reading them one by one, in any order, or all at once
gives the same outcomes, and the counts the statistics take without rendering them are those of the outcomes."""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import pytest

from services.allocation.domain import Application, Facts, ReasonCode, Status, allocate
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
