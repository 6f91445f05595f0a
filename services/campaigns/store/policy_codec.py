"""An allocation policy as a JSON-ready mapping and back: the form of the `policy` column and of
the API's policy object, whose names follow the `campaign.*` event contract."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from services.campaigns.domain import AllocationMode, AllocationPolicy, CriterionName, PriorityCriterion, ReservedShare


def policy_to_json(policy: AllocationPolicy) -> dict[str, Any]:
    document = asdict(policy)
    for reserved in document["reserved_shares"]:
        # Text, not a float: 0.20 must come back as Decimal("0.20"), exactly.
        reserved["share"] = str(reserved["share"])
    return document


def policy_from_json(document: Mapping[str, Any]) -> AllocationPolicy:
    return AllocationPolicy(
        mode=AllocationMode(document["mode"]),
        criteria=tuple(_criterion(criterion) for criterion in document["criteria"]),
        reserved_shares=tuple(
            # str() first: a JSON number read as a float 0.2 becomes Decimal("0.2"), not 0.2000000000000000111.
            ReservedShare(_criterion(reserved["criterion"]), Decimal(str(reserved["share"])))
            for reserved in document["reserved_shares"]
        ),
        lottery_weight_per_unsuccessful_year=document["lottery_weight_per_unsuccessful_year"],
        keep_siblings_together=document["keep_siblings_together"],
        acceptance_delay_hours=document["acceptance_delay_hours"],
        # Policies stored before issue 18 have no margin: the domain's default.
        acceptance_margin_hours=document.get("acceptance_margin_hours", AllocationPolicy.acceptance_margin_hours),
        # Policies stored before issue 16 did not require validated facts.
        requires_validated_facts=document.get("requires_validated_facts", False),
    )


def _criterion(document: Mapping[str, Any]) -> PriorityCriterion:
    return PriorityCriterion(CriterionName(document["name"]), document.get("max_tranche"))
