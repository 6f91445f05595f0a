"""A policy requiring validated facts (issue 16): accepted only where a criterion reads such a fact."""
from decimal import Decimal

import pytest

from services.campaigns.domain import AllocationMode, AllocationPolicy, CriterionName, PriorityCriterion, ReservedShare
from services.campaigns.domain.policy import policy_violations
from services.campaigns.store.policy_codec import policy_from_json, policy_to_json
from services.campaigns.web.schemas import PolicySchema
from services.portal.web.campaign_form import campaign_fields, campaign_to_form, kept_policy

TRANCHE_3 = PriorityCriterion(CriterionName.QUOTIENT_TRANCHE_AT_MOST, max_tranche=3)
RESIDENT = PriorityCriterion(CriterionName.RESIDENT_OF_OFFER_ARRONDISSEMENT)
SINGLE_PARENT = PriorityCriterion(CriterionName.SINGLE_PARENT)
DISABILITY = PriorityCriterion(CriterionName.DISABILITY_ALLOWANCE)


def violations(**policy) -> list[tuple[str, str]]:
    return [(v.code, v.field) for v in policy_violations(AllocationPolicy(requires_validated_facts=True, **policy))]


@pytest.mark.parametrize("policy", [
    dict(mode=AllocationMode.PRIORITY_LOTTERY, criteria=(RESIDENT, TRANCHE_3)),
    dict(mode=AllocationMode.PRIORITY_LOTTERY, criteria=(SINGLE_PARENT,)),
    dict(mode=AllocationMode.PRIORITY_LOTTERY, criteria=(DISABILITY,)),
    # A plain lottery with a share reserved on a validated fact: the share reads it.
    dict(mode=AllocationMode.LOTTERY, reserved_shares=(ReservedShare(TRANCHE_3, Decimal("0.2")),)),
])
def test_required_where_a_criterion_reads_a_validated_fact(policy):
    assert violations(**policy) == []


@pytest.mark.parametrize("policy", [
    dict(mode=AllocationMode.LOTTERY),
    dict(mode=AllocationMode.FIRST_COME),
    dict(mode=AllocationMode.PRIORITY_LOTTERY, criteria=(RESIDENT,)),
    dict(mode=AllocationMode.LOTTERY, reserved_shares=(ReservedShare(RESIDENT, Decimal("0.2")),)),
])
def test_refused_where_it_would_change_nothing(policy):
    assert ("policy.validated_facts_without_fact_criterion", "requires_validated_facts") in violations(**policy)


def test_off_by_default_and_for_policies_stored_before_it():
    assert AllocationPolicy(AllocationMode.LOTTERY).requires_validated_facts is False
    stored_before = policy_to_json(AllocationPolicy(AllocationMode.LOTTERY))
    del stored_before["requires_validated_facts"]
    assert policy_from_json(stored_before).requires_validated_facts is False
    assert PolicySchema().load({"mode": "lottery"}).requires_validated_facts is False


def test_kept_through_storage_and_the_api():
    policy = PolicySchema().load({"mode": "priority_lottery", "criteria": [{"name": "single_parent"}],
                                  "requires_validated_facts": True})
    assert policy.requires_validated_facts is True
    assert policy_from_json(policy_to_json(policy)) == policy
    assert PolicySchema().dump(policy)["requires_validated_facts"] is True


def test_the_managers_form_sends_it_and_shows_it():
    form = {"mode": "priority_lottery", "criterion_single_parent": "oui", "max_choices": "3",
            "acceptance_delay_hours": "72", "requires_validated_facts": "oui"}
    errors: dict[str, str] = {}
    assert campaign_fields(form, errors)["policy"]["requires_validated_facts"] is True and errors == {}
    unchecked = campaign_fields({**form, "requires_validated_facts": ""}, errors)["policy"]
    # Unticking it on an edit turns it off: the kept policy does not bring the old value back.
    assert kept_policy({"requires_validated_facts": True}, unchecked)["requires_validated_facts"] is False
    shown = campaign_to_form({"title": "t", "kind": "k", "opens_at": "2026-01-01T10:00:00", "closes_at":
                              "2026-01-02T10:00:00", "reference_date": "2026-01-01", "max_choices": 3,
                              "policy": {"mode": "lottery", "requires_validated_facts": True}})
    assert shown["requires_validated_facts"] is True
