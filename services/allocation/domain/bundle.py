"""Draw bundles: what the city publishes so that anyone can recompute a campaign's allocation.

A bundle is JSON: the policy, the offers, the applications, the seed's commitment and the revealed
seed, and every application's published result. Applications keep their real ids (the lottery
hashes them, and each family knows its own), but child, family and sibling-group ids become
aliases that only preserve which applications share them, and an application's facts are published
only when the policy reads them: nothing in the bundle is needed for less than recomputing it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from services.allocation.domain.allocate import allocate
from services.allocation.domain.deferred_acceptance import CURRENT_RULE
from services.allocation.domain.lottery import commitment, format_number, verify_commitment
from services.allocation.domain.model import Application, CampaignPolicy, Facts, Offer, PriorityCriterion, ReservedShare
from services.allocation.domain.priorities import facts_read, uses_sibling_placed
from services.allocation.domain.result import AllocationResult, Outcome, TieBreak

# The format names the allocation rule the results were computed with (see deferred_acceptance.py):
# guichet-draw/1 bundles were drawn under rule 1, and are still recomputed with it.
BUNDLE_FORMAT = "guichet-draw/2"
RULE_OF_FORMAT = {"guichet-draw/1": 1, "guichet-draw/2": 2}


def draw_bundle(policy: CampaignPolicy, offers: Iterable[Offer], applications: Iterable[Application],
                result: AllocationResult, seed: bytes | None, *, rule: int = CURRENT_RULE) -> dict[str, Any]:
    """`rule`: the one `result` was computed with (only a re-publication of an old draw gives 1)."""
    applications = sorted(applications, key=lambda a: a.application_id)
    return {
        "format": next(name for name, its_rule in RULE_OF_FORMAT.items() if its_rule == rule),
        "policy": _policy_record(policy),
        "offers": [_offer_record(offer) for offer in sorted(offers, key=lambda o: o.offer_id)],
        "applications": _application_records(policy, applications),
        "seed_commitment": None if seed is None else commitment(seed),
        "seed": None if seed is None else seed.hex(),
        "results": result_records(result),
    }


def verify_draw(bundle: Mapping[str, Any], seed: bytes | None = None) -> list[str]:
    """The differences between the bundle and a fresh recomputation; none means verified.

    `seed` replaces the bundle's revealed seed, for instance to check one published elsewhere.
    Raises ValueError when the bundle cannot be read.
    """
    rule = RULE_OF_FORMAT.get(bundle.get("format"))
    if rule is None:
        raise ValueError(f"not a draw bundle of a known format ({', '.join(RULE_OF_FORMAT)})")
    policy = _policy_from(bundle["policy"])
    if seed is None and bundle.get("seed"):
        seed = bytes.fromhex(bundle["seed"])
    problems = []
    if policy.draws_lots:
        if seed is None:
            raise ValueError("the bundle reveals no seed: give it")
        if not verify_commitment(seed, bundle["seed_commitment"] or ""):
            problems.append(f"the seed {seed.hex()} does not match the published commitment "
                            f"{bundle['seed_commitment']}")
    offers = [_offer_from(record) for record in bundle["offers"]]
    applications = [_application_from(record) for record in bundle["applications"]]
    recomputed = result_records(allocate(policy, offers, applications, seed if policy.draws_lots else None, rule=rule))
    return problems + _differences(bundle["results"], recomputed)


def result_records(result: AllocationResult) -> dict[str, dict[str, Any]]:
    return {application_id: _outcome_record(outcome) for application_id, outcome in sorted(result.outcomes.items())}


def _outcome_record(outcome: Outcome) -> dict[str, Any]:
    record = {
        "status": str(outcome.status),
        "offer_id": outcome.offer_id,
        "waitlist": [{"offer_id": entry.offer_id, "position": entry.position} for entry in outcome.waitlist],
        "reasons": [{"code": str(reason.code), "offer_id": reason.offer_id} for reason in outcome.reasons],
    }
    tie_break = outcome.explanation.tie_break
    if outcome.explanation.tie_break_kind == TieBreak.LOTTERY:
        record["lottery_number"] = None if tie_break is None else format_number(tie_break)
    else:
        record["arrival_rank"] = tie_break
    return record


def _differences(published: Mapping[str, Any], recomputed: Mapping[str, Any]) -> list[str]:
    problems = []
    for application_id in sorted(set(published) | set(recomputed)):
        if application_id not in recomputed:
            problems.append(f"{application_id}: published but not among the applications")
        elif application_id not in published:
            problems.append(f"{application_id}: no published result")
        else:
            mine, theirs = recomputed[application_id], published[application_id]
            problems += [f"{application_id}: {field} published {theirs.get(field)!r}, recomputed {mine.get(field)!r}"
                         for field in sorted(set(mine) | set(theirs)) if mine.get(field) != theirs.get(field)]
    return problems


def _criterion_record(criterion: PriorityCriterion) -> dict[str, Any]:
    return {"name": str(criterion.name), "max_tranche": criterion.max_tranche}


def _criterion_from(record: Mapping[str, Any]) -> PriorityCriterion:
    return PriorityCriterion(record["name"], record.get("max_tranche"))


def _policy_record(policy: CampaignPolicy) -> dict[str, Any]:
    required = policy.residence_required_arrondissements
    return {
        "mode": str(policy.mode),
        "criteria": [_criterion_record(criterion) for criterion in policy.criteria],
        "lottery_weight_per_unsuccessful_year": policy.lottery_weight_per_unsuccessful_year,
        "keep_siblings_together": policy.keep_siblings_together,
        "reserved_shares": [{"criterion": _criterion_record(reserve.criterion), "share": str(reserve.share)}
                            for reserve in policy.reserved_shares],
        "max_choices": policy.max_choices,
        "residence_required_arrondissements": None if required is None else sorted(required),
    }


def _policy_from(record: Mapping[str, Any]) -> CampaignPolicy:
    return CampaignPolicy(
        mode=record["mode"],
        criteria=tuple(_criterion_from(criterion) for criterion in record["criteria"]),
        lottery_weight_per_unsuccessful_year=record["lottery_weight_per_unsuccessful_year"],
        keep_siblings_together=record["keep_siblings_together"],
        reserved_shares=tuple(ReservedShare(_criterion_from(reserve["criterion"]), reserve["share"])
                              for reserve in record["reserved_shares"]),
        max_choices=record["max_choices"],
        residence_required_arrondissements=record["residence_required_arrondissements"],
    )


def _offer_record(offer: Offer) -> dict[str, Any]:
    return {"offer_id": offer.offer_id, "capacity": offer.capacity, "arrondissement": offer.arrondissement,
            "min_age": offer.min_age, "max_age": offer.max_age, "waitlist_limit": offer.waitlist_limit}


def _offer_from(record: Mapping[str, Any]) -> Offer:
    return Offer(**record)


def _application_records(policy: CampaignPolicy, applications: list[Application]) -> list[dict[str, Any]]:
    children, families, groups = _Aliases("child"), _Aliases("family"), _Aliases("group")
    published_facts = sorted(facts_read(policy))
    records = []
    for application in applications:
        record = {
            "application_id": application.application_id,
            "child": children.of(application.child_id),
            "age_at_reference_date": application.age_at_reference_date,
            "choices": list(application.choices),
            "arrival_sequence": application.arrival_position,  # its name in the published format
            "facts": {name: getattr(application.facts, name) for name in published_facts},
        }
        if uses_sibling_placed(policy):
            record["family"] = families.of(application.family_account)
        if policy.keep_siblings_together and application.sibling_group_id is not None:
            record["sibling_group"] = groups.of(application.sibling_group_id)
        records.append(record)
    return records


def _application_from(record: Mapping[str, Any]) -> Application:
    return Application(
        application_id=record["application_id"],
        child_id=record["child"],
        family_account=record.get("family", record["child"]),  # only sibling_placed reads families
        age_at_reference_date=record["age_at_reference_date"],
        choices=tuple(record["choices"]),
        facts=Facts(**record["facts"]),
        arrival_position=record["arrival_sequence"],
        sibling_group_id=record.get("sibling_group"),
    )


class _Aliases:
    """child-1, child-2, …: in order of first appearance, so the same inputs give the same aliases."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.given: dict[str, str] = {}

    def of(self, real_id: str) -> str:
        return self.given.setdefault(real_id, f"{self.prefix}-{len(self.given) + 1}")
