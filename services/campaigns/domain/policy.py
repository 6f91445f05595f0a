"""How a campaign's places are given: the mode, priority criteria, reserved shares, lottery
weighting, siblings, and how long a family has to accept an offered place.

Names follow the `campaign.*` event contract (shared/contracts/campaigns.py), so a snapshot
dumps these values without renaming.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from services.campaigns.domain.paris_time import require_aware
from services.campaigns.domain.tariffs import TRANCHE_COUNT
from services.campaigns.domain.values import is_int
from shared.domain.paris import PARIS
from shared.domain.policy import VALIDATED_FACT_CRITERIA, AllocationMode, CriterionName
from shared.domain.violations import Violation

MAX_LOTTERY_WEIGHT_PER_YEAR = 10
MAX_ACCEPTANCE_DELAY_HOURS = 30 * 24


@dataclass(frozen=True)
class PriorityCriterion:
    name: CriterionName
    # Only for QUOTIENT_TRANCHE_AT_MOST: families in tranches 1 to max_tranche qualify.
    max_tranche: int | None = None


@dataclass(frozen=True)
class ReservedShare:
    """A share of each offer's places kept for families meeting one criterion (Decimal("0.20") = 20 %)."""
    criterion: PriorityCriterion
    share: Decimal


@dataclass(frozen=True)
class AllocationPolicy:
    mode: AllocationMode
    # Most important first. Only priority_lottery ranks families by criteria.
    criteria: tuple[PriorityCriterion, ...] = ()
    reserved_shares: tuple[ReservedShare, ...] = ()
    # Extra lottery tickets per earlier campaign of the same kind the child applied to without a place.
    lottery_weight_per_unsuccessful_year: int = 0
    # Siblings applying together are placed together or waitlisted together.
    keep_siblings_together: bool = False
    acceptance_delay_hours: int = 72
    # An offered place's deadline falls at least this many hours before its activity starts (midnight,
    # Paris, of its first day): a family never holds a place past the start, and a place freed later
    # is not offered any more (docs/campaigns.md#lifecycle).
    acceptance_margin_hours: int = 24
    # Issue 16: the facts an agent validates from a document (quotient tranche, single parent, disability
    # allowance) count for priority criteria and reserved shares only once validated; declared-only, not met.
    requires_validated_facts: bool = False


def reserved_places(capacity: int, share: Decimal) -> int:
    """Rounded down, so the reserved places of shares summing to at most 100 % never exceed capacity."""
    return int((Decimal(capacity) * share).to_integral_value(rounding=ROUND_FLOOR))


def acceptance_deadline(offered_at: datetime, acceptance_delay_hours: int, starts_on: date | None = None,
                        acceptance_margin_hours: int = 0) -> datetime:
    """Real elapsed hours: 72 h are 72 hours for every family, even across a DST change, so on
    the Paris wall clock the deadline moves one hour (10:00 Friday -> 09:00 Monday in October).
    Capped at `acceptance_margin_hours` before the activity's start (midnight, Paris, of `starts_on`)."""
    deadline = require_aware(offered_at, "offered_at") + timedelta(hours=acceptance_delay_hours)
    if starts_on is None:
        return deadline
    return min(deadline, acceptance_cutoff(starts_on, acceptance_margin_hours))


def acceptance_cutoff(starts_on: date, acceptance_margin_hours: int) -> datetime:
    """The latest deadline a place of an activity starting on `starts_on` may have."""
    start = datetime(starts_on.year, starts_on.month, starts_on.day, tzinfo=PARIS).astimezone(UTC)
    return start - timedelta(hours=acceptance_margin_hours)


def policy_violations(policy: AllocationPolicy) -> list[Violation]:
    return [
        *_criteria_violations(policy),
        *_reserved_share_violations(policy),
        *_lottery_weight_violations(policy),
        *_first_come_violations(policy),
        *_acceptance_delay_violations(policy.acceptance_delay_hours),
        *_acceptance_margin_violations(policy.acceptance_margin_hours),
        *_validated_facts_violations(policy),
    ]


def _validated_facts_violations(policy: AllocationPolicy) -> list[Violation]:
    """Requiring validated facts changes something only where a criterion (ranking or reserved share) reads
    one: elsewhere the setting is refused, not silently ignored."""
    if policy.requires_validated_facts is False:
        return []
    if policy.requires_validated_facts is not True:
        return [Violation("policy.requires_validated_facts_not_boolean", "requires_validated_facts",
                          "Indiquez oui ou non.")]
    in_use = [criterion.name for criterion in policy.criteria] if policy.mode is AllocationMode.PRIORITY_LOTTERY else []
    in_use += [reserved.criterion.name for reserved in policy.reserved_shares]
    if VALIDATED_FACT_CRITERIA.isdisjoint(in_use):
        return [Violation(
            "policy.validated_facts_without_fact_criterion", "requires_validated_facts",
            "Exiger des faits validés n'a d'effet qu'avec un critère ou une part réservée portant sur le quotient "
            "familial, la famille monoparentale ou l'allocation d'éducation de l'enfant handicapé (AEEH).",
        )]
    return []


def _first_come_violations(policy: AllocationPolicy) -> list[Violation]:
    """First come, first served gives places as requests arrive, so it has no draw in which to keep
    siblings together or to fill reserved shares first: such settings are refused, not ignored."""
    if policy.mode is not AllocationMode.FIRST_COME:
        return []
    violations = []
    if policy.keep_siblings_together:
        violations.append(Violation(
            "policy.siblings_together_need_a_draw", "keep_siblings_together",
            "« Premier arrivé, premier servi » ne place pas les frères et sœurs ensemble : "
            "désactivez ce réglage ou choisissez un tirage au sort.",
        ))
    if policy.reserved_shares:
        violations.append(Violation(
            "policy.reserved_shares_need_a_draw", "reserved_shares",
            "« Premier arrivé, premier servi » ne réserve pas de places : retirez les parts réservées "
            "ou choisissez un tirage au sort.",
        ))
    return violations


def _criteria_violations(policy: AllocationPolicy) -> list[Violation]:
    if policy.mode is not AllocationMode.PRIORITY_LOTTERY:
        return [
            Violation(
                "policy.criteria_need_priority_lottery", f"criteria.{index}",
                f"Le mode « {policy.mode} » ne classe pas les familles : retirez les critères "
                f"ou choisissez le tirage au sort avec priorités.",
            )
            for index in range(len(policy.criteria))
        ]
    if not policy.criteria:
        return [Violation(
            "policy.criteria_required", "criteria", "Un tirage au sort avec priorités demande au moins un critère.",
        )]
    violations: list[Violation] = []
    seen: set[CriterionName] = set()
    for index, criterion in enumerate(policy.criteria):
        if criterion.name in seen:
            violations.append(Violation(
                "policy.duplicate_criterion", f"criteria.{index}.name",
                f"Le critère « {criterion.name} » figure deux fois.",
            ))
        seen.add(criterion.name)
        violations += _parameter_violations(criterion, f"criteria.{index}")
    return violations


def _parameter_violations(criterion: PriorityCriterion, path: str) -> list[Violation]:
    if criterion.name is CriterionName.QUOTIENT_TRANCHE_AT_MOST:
        # Tranche 10 would include every family, so the threshold stops at 9.
        if not is_int(criterion.max_tranche) or not 1 <= criterion.max_tranche < TRANCHE_COUNT:
            return [Violation(
                "policy.max_tranche_out_of_range", f"{path}.max_tranche",
                f"La tranche maximale doit aller de 1 à {TRANCHE_COUNT - 1}.",
            )]
    elif criterion.max_tranche is not None:
        return [Violation(
            "policy.parameter_not_applicable", f"{path}.max_tranche",
            f"Le critère « {criterion.name} » ne prend pas de tranche maximale.",
        )]
    return []


def _reserved_share_violations(policy: AllocationPolicy) -> list[Violation]:
    violations: list[Violation] = []
    seen: set[PriorityCriterion] = set()
    total = Decimal(0)
    for index, reserved in enumerate(policy.reserved_shares):
        path = f"reserved_shares.{index}"
        violations += _parameter_violations(reserved.criterion, f"{path}.criterion")
        if reserved.criterion in seen:
            violations.append(Violation(
                "policy.duplicate_reserved_share", path,
                f"Une part est déjà réservée au critère « {reserved.criterion.name} ».",
            ))
        seen.add(reserved.criterion)
        # With priorities, a quota for families the ranking ignores would contradict the ranking.
        if policy.mode is AllocationMode.PRIORITY_LOTTERY and reserved.criterion not in policy.criteria:
            violations.append(Violation(
                "policy.reserved_share_criterion_not_in_policy", f"{path}.criterion",
                f"La part réservée au critère « {reserved.criterion.name} » doit porter sur un critère "
                f"de priorité de la campagne, avec le même paramètre.",
            ))
        if not isinstance(reserved.share, Decimal) or not reserved.share.is_finite() or not 0 < reserved.share <= 1:
            violations.append(Violation(
                "policy.reserved_share_out_of_range", f"{path}.share",
                "La part réservée est un nombre décimal strictement positif et au plus 1 (0.20 pour 20 %).",
            ))
        else:
            total += reserved.share
    if total > 1:
        violations.append(Violation(
            "policy.reserved_shares_exceed_total", "reserved_shares",
            f"Les parts réservées totalisent {total * 100:.0f} % des places : au plus 100 %.",
        ))
    return violations


def _lottery_weight_violations(policy: AllocationPolicy) -> list[Violation]:
    weight = policy.lottery_weight_per_unsuccessful_year
    field = "lottery_weight_per_unsuccessful_year"
    if not is_int(weight) or not 0 <= weight <= MAX_LOTTERY_WEIGHT_PER_YEAR:
        return [Violation(
            "policy.lottery_weight_out_of_range", field,
            f"Les tickets supplémentaires par année sans place vont de 0 à {MAX_LOTTERY_WEIGHT_PER_YEAR}.",
        )]
    if weight and policy.mode is AllocationMode.FIRST_COME:
        return [Violation(
            "policy.lottery_weight_without_lottery", field,
            "« Premier arrivé, premier servi » ne tire pas au sort : les tickets supplémentaires n'ont pas d'effet.",
        )]
    return []


def _acceptance_delay_violations(hours: int) -> list[Violation]:
    if not is_int(hours) or not 1 <= hours <= MAX_ACCEPTANCE_DELAY_HOURS:
        return [Violation(
            "policy.acceptance_delay_out_of_range", "acceptance_delay_hours",
            f"Le délai pour accepter une place va de 1 à {MAX_ACCEPTANCE_DELAY_HOURS} heures (30 jours).",
        )]
    return []


def _acceptance_margin_violations(hours: int) -> list[Violation]:
    if not is_int(hours) or not 0 <= hours <= MAX_ACCEPTANCE_DELAY_HOURS:
        return [Violation(
            "policy.acceptance_margin_out_of_range", "acceptance_margin_hours",
            f"La marge entre la date limite d'acceptation et le début de l'activité va de 0 à "
            f"{MAX_ACCEPTANCE_DELAY_HOURS} heures.",
        )]
    return []
