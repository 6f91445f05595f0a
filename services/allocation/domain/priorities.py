"""Priority criteria and tiers.

A tier is lexicographic over the ranking criteria, most important first: meeting the first
criterion beats meeting every later one. Written as an integer, tier = 1 + Σ 2^(k-1-i) over the
criteria i that are NOT met (k criteria), so tier 1 meets all of them, tier 2^k none, and a lower
tier always means a higher priority. Criteria are evaluated per offer because residence is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from services.allocation.domain.entrants import Entrant
from services.allocation.domain.model import Application, CampaignPolicy, Criterion, CriterionName, Offer

# Which fact each criterion reads; sibling_placed reads the preliminary placement of siblings instead.
FACT_READ_BY = {
    CriterionName.SINGLE_PARENT: "single_parent",
    CriterionName.QUOTIENT_TRANCHE_AT_MOST: "quotient_tranche",
    CriterionName.DISABILITY_ALLOWANCE: "disability_allowance",
    CriterionName.SIBLING_PLACED: None,
    CriterionName.RESIDENT_OF_OFFER_ARRONDISSEMENT: "residence_arrondissement",
    CriterionName.NOT_PLACED_PREVIOUS_CAMPAIGN: "not_placed_previous_campaign",
}


def meets(criterion: Criterion, application: Application, offer: Offer, sibling_offers: frozenset[str]) -> bool:
    """`sibling_offers`: offers where a brother or sister was placed by the preliminary pass."""
    facts = application.facts
    match criterion.name:
        case CriterionName.SINGLE_PARENT:
            return facts.single_parent
        case CriterionName.QUOTIENT_TRANCHE_AT_MOST:
            return facts.effective_tranche <= criterion.max_tranche
        case CriterionName.DISABILITY_ALLOWANCE:
            return facts.disability_allowance
        case CriterionName.SIBLING_PLACED:
            return offer.offer_id in sibling_offers
        case CriterionName.RESIDENT_OF_OFFER_ARRONDISSEMENT:
            return facts.residence_arrondissement == offer.arrondissement
        case CriterionName.NOT_PLACED_PREVIOUS_CAMPAIGN:
            return facts.not_placed_previous_campaign


def criteria_met(application: Application, offer: Offer, criteria: tuple[Criterion, ...],
                 sibling_offers: frozenset[str]) -> frozenset[Criterion]:
    return frozenset(criterion for criterion in criteria if meets(criterion, application, offer, sibling_offers))


def tier(met: frozenset[Criterion], ranking_criteria: tuple[Criterion, ...]) -> int:
    count = len(ranking_criteria)
    return 1 + sum(1 << (count - 1 - i) for i, criterion in enumerate(ranking_criteria) if criterion not in met)


def facts_read(policy: CampaignPolicy) -> frozenset[str]:
    """The fact fields that can change this policy's allocation: the only ones a published bundle needs."""
    read = {FACT_READ_BY[criterion.name] for criterion in policy.criteria_in_use} - {None}
    if policy.residence_required_arrondissements is not None:
        read.add("residence_arrondissement")
    if policy.draws_lots and policy.lottery_weight_per_unsuccessful_year:
        read.add("unsuccessful_earlier_years")
    return frozenset(read)


def uses_sibling_placed(policy: CampaignPolicy) -> bool:
    return any(criterion.name == CriterionName.SIBLING_PLACED for criterion in policy.criteria_in_use)


@dataclass(frozen=True)
class Proposer:
    """An entrant with its priority at each offer it ranked: what deferred acceptance works on."""
    entrant: Entrant
    criteria: Mapping[str, frozenset[Criterion]]  # met by every member, per offer
    tiers: Mapping[str, int]
    # Copied from the entrant once: the choice rule reads them millions of times in a large campaign.
    entrant_id: str = field(init=False)
    size: int = field(init=False)
    orders: Mapping[str, tuple[int, int, str]] = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "entrant_id", self.entrant.entrant_id)
        object.__setattr__(self, "size", self.entrant.size)
        object.__setattr__(self, "orders", {offer_id: (tier_, self.entrant.tie_break, self.entrant_id)
                                            for offer_id, tier_ in self.tiers.items()})

    @property
    def choices(self) -> tuple[str, ...]:
        return self.entrant.choices

    def order(self, offer_id: str) -> tuple[int, int, str]:
        """An offer admits lower values first: tier, then lottery number or arrival rank, then id."""
        return self.orders[offer_id]

    def prefers(self, offer_id: str, assigned_offer_id: str | None) -> bool:
        return assigned_offer_id is None or self.choices.index(offer_id) < self.choices.index(assigned_offer_id)


def proposers(entrants: tuple[Entrant, ...], offers: Mapping[str, Offer], policy: CampaignPolicy,
              sibling_offers: Mapping[str, frozenset[str]]) -> tuple[Proposer, ...]:
    """A sibling group meets a criterion at an offer only when every member does, so its tier is
    never better than its lowest-priority member's: one child cannot lift the others."""
    built = []
    for entrant in entrants:
        criteria = {}
        for offer_id in entrant.choices:
            met_by_each = [criteria_met(member, offers[offer_id], policy.criteria_in_use,
                                        sibling_offers.get(member.application_id, frozenset()))
                           for member in entrant.members]
            criteria[offer_id] = frozenset.intersection(*met_by_each)
        tiers = {offer_id: tier(met, policy.ranking_criteria) for offer_id, met in criteria.items()}
        built.append(Proposer(entrant, criteria, tiers))
    return tuple(built)
