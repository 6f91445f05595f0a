"""Validated facts (issue 16): a campaign's policy may count, for its priority criteria and reserved
shares, only the facts a city agent validated from a document (quotient tranche, single parent,
disability allowance). A fact the family only declared then counts as not met, and the family's
outcome says so: reason `fact_not_validated`, naming the criterion.

Counting is done once, on the applications' facts, before the allocation: every path that reads
facts (the ranking, reserved seats, the draw bundle's lines) then sees the same counted facts.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from services.allocation.domain.explain import Outcomes
from services.allocation.domain.model import Application, CampaignPolicy
from services.allocation.domain.priorities import meets
from services.allocation.domain.result import AllocationResult, Reason, ReasonCode
from shared.domain.policy import VALIDATED_FACT_CRITERIA

_NO_SIBLINGS: frozenset[str] = frozenset()


def as_counted(policy: CampaignPolicy, application: Application) -> Application:
    """The application with its facts as `policy` counts them."""
    if not policy.requires_validated_facts:
        return application
    counted = application.facts.counted()
    return application if counted is application.facts else replace(application, facts=counted)


def count_validated(policy: CampaignPolicy, applications: list[Application]
                    ) -> tuple[list[Application], dict[str, tuple[str, ...]]]:
    """The applications as `policy` counts them and, per application id, the labels of the criteria
    (in the policy's order) its declared-only facts would have met."""
    if not policy.requires_validated_facts:
        return applications, {}
    fact_criteria = [criterion for criterion in policy.criteria_in_use if criterion.name in VALIDATED_FACT_CRITERIA]
    counted_applications, not_counted = [], {}
    for application in applications:
        counted = as_counted(policy, application)
        if counted is not application:
            labels = tuple(criterion.label for criterion in fact_criteria
                           if meets(criterion, application, None, _NO_SIBLINGS)
                           and not meets(criterion, counted, None, _NO_SIBLINGS))
            if labels:
                not_counted[application.application_id] = labels
        counted_applications.append(counted)
    return counted_applications, not_counted


def tell_not_counted(result: AllocationResult, not_counted: Mapping[str, tuple[str, ...]]) -> AllocationResult:
    """The core's result, each outcome concerned telling which criteria did not count and why."""
    if not not_counted:
        return result
    outcomes: Outcomes = result.outcomes
    return AllocationResult(outcomes.with_reasons({
        application_id: tuple(Reason(ReasonCode.FACT_NOT_VALIDATED, None, label) for label in labels)
        for application_id, labels in not_counted.items()}), result.statistics)
