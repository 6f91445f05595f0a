"""What the allocation reads: the campaign's policy, its offers and the applications.

These frozen dataclasses are the contract the worker maps database rows onto. They hold
facts only; every rule that reads them lives in the neighbouring modules.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property

from shared.domain.policy import HIGHEST_TRANCHE, LOWEST_TRANCHE, AllocationMode, CriterionName


@dataclass(frozen=True)
class PriorityCriterion:
    """A criterion as a policy applies it: its name (the campaigns' `CriterionName`) and, for
    quotient_tranche_at_most, the highest tranche that meets it."""
    name: CriterionName
    max_tranche: int | None = None  # only for quotient_tranche_at_most

    def __post_init__(self):
        object.__setattr__(self, "name", CriterionName(self.name))
        takes_tranche = self.name == CriterionName.QUOTIENT_TRANCHE_AT_MOST
        if takes_tranche != (self.max_tranche is not None):
            raise ValueError(f"max_tranche is required by quotient_tranche_at_most and only by it, not {self.name}")
        if takes_tranche and not LOWEST_TRANCHE <= self.max_tranche <= HIGHEST_TRANCHE:
            raise ValueError(f"max_tranche must be within {LOWEST_TRANCHE}..{HIGHEST_TRANCHE}, not {self.max_tranche}")

    @property
    def label(self) -> str:
        return f"{self.name}({self.max_tranche})" if self.max_tranche is not None else str(self.name)


@dataclass(frozen=True)
class ReservedShare:
    """A share of every offer's seats kept first for the applicants meeting `criterion`.

    `share` is exact: a Fraction, an int, a string such as "1/5" or "0.2", or a float, which is read
    as the decimal it prints as (0.29 → 29/100), so that 29 % of 100 seats is 29 and not 28.
    """
    criterion: PriorityCriterion
    share: Fraction

    def __post_init__(self):
        share = Fraction(repr(self.share)) if isinstance(self.share, float) else Fraction(self.share)
        if not 0 < share <= 1:
            raise ValueError(f"a reserved share is within (0, 1], not {share}")
        object.__setattr__(self, "share", share)

    def seats(self, capacity: int) -> int:
        """Rounded down, so reserves never exceed what the share promises."""
        return capacity * self.share.numerator // self.share.denominator


@dataclass(frozen=True)
class CampaignPolicy:
    mode: AllocationMode
    # Most important first. Only priority_lottery ranks by them: under fcfs and lottery every
    # applicant is in one tier, whatever the campaign's settings still list here.
    criteria: tuple[PriorityCriterion, ...] = ()
    # Extra lottery tickets per earlier unsuccessful year; 0 turns them off. Ignored by fcfs.
    lottery_weight_per_unsuccessful_year: int = 0
    keep_siblings_together: bool = False
    reserved_shares: tuple[ReservedShare, ...] = ()
    max_choices: int | None = None  # None: no limit
    # None: anyone may apply; otherwise the child must live in one of these arrondissements.
    residence_required_arrondissements: frozenset[int] | None = None
    # Criteria on the quotient tranche, single parent or disability allowance count validated facts only.
    requires_validated_facts: bool = False

    def __post_init__(self):
        object.__setattr__(self, "mode", AllocationMode(self.mode))
        object.__setattr__(self, "criteria", tuple(self.criteria))
        object.__setattr__(self, "reserved_shares", tuple(self.reserved_shares))
        if self.residence_required_arrondissements is not None:
            object.__setattr__(self, "residence_required_arrondissements",
                               frozenset(self.residence_required_arrondissements))
        if len(set(self.criteria)) != len(self.criteria):
            raise ValueError("a priority criterion is listed twice")
        if self.lottery_weight_per_unsuccessful_year < 0:
            raise ValueError("lottery_weight_per_unsuccessful_year cannot be negative")
        if sum(reserve.share for reserve in self.reserved_shares) > 1:
            raise ValueError("reserved shares add up to more than the whole capacity")
        if self.max_choices is not None and self.max_choices < 1:
            raise ValueError("max_choices must be at least 1")

    @property
    def draws_lots(self) -> bool:
        return self.mode != AllocationMode.FIRST_COME

    @property
    def ranking_criteria(self) -> tuple[PriorityCriterion, ...]:
        """The criteria that make tiers: none unless the mode is priority_lottery."""
        return self.criteria if self.mode == AllocationMode.PRIORITY_LOTTERY else ()

    @cached_property  # read for every application at every offer
    def criteria_in_use(self) -> tuple[PriorityCriterion, ...]:
        """Every criterion the allocation evaluates: ranking ones, then reserve ones."""
        reserve_criteria = (reserve.criterion for reserve in self.reserved_shares)
        return tuple(dict.fromkeys((*self.ranking_criteria, *reserve_criteria)))


@dataclass(frozen=True)
class Offer:
    offer_id: str
    capacity: int
    arrondissement: int
    min_age: int  # inclusive, at the campaign's reference date
    max_age: int  # inclusive
    waitlist_limit: int | None = None  # None: unlimited

    def __post_init__(self):
        if self.capacity < 0:
            raise ValueError(f"offer {self.offer_id}: capacity cannot be negative")
        if not 0 <= self.min_age <= self.max_age:
            raise ValueError(f"offer {self.offer_id}: ages {self.min_age}..{self.max_age} make no range")
        if self.waitlist_limit is not None and self.waitlist_limit < 0:
            raise ValueError(f"offer {self.offer_id}: waitlist_limit cannot be negative")


# The facts a city agent validates from a supporting document (issue 16); until then they are only declared.
VALIDATED_FACTS = ("quotient_tranche", "single_parent", "disability_allowance")
NONE_VALIDATED: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Facts:
    """What the family declared and the city checked, as of the campaign's closing."""
    single_parent: bool = False
    quotient_tranche: int | None = None  # None: no quotient on file, ranked as tranche 10
    disability_allowance: bool = False  # the child receives the AEEH
    residence_arrondissement: int | None = None  # None: lives outside Paris
    unsuccessful_earlier_years: int = 0  # earlier campaigns of the same kind applied to without a place
    not_placed_previous_campaign: bool = False  # applied to the previous one and got no place
    # Which of VALIDATED_FACTS a city agent validated; the others are as the family declared them.
    validated: frozenset[str] = NONE_VALIDATED

    def __post_init__(self):
        if self.quotient_tranche is not None and not LOWEST_TRANCHE <= self.quotient_tranche <= HIGHEST_TRANCHE:
            raise ValueError(f"quotient tranche {self.quotient_tranche} is not within 1..10")
        if self.unsuccessful_earlier_years < 0:
            raise ValueError("unsuccessful_earlier_years cannot be negative")
        if self.validated:
            validated = frozenset(self.validated)
            if not validated <= set(VALIDATED_FACTS):
                raise ValueError(f"only {', '.join(VALIDATED_FACTS)} are validated, not {sorted(validated)}")
            object.__setattr__(self, "validated", validated)

    @property
    def effective_tranche(self) -> int:
        return HIGHEST_TRANCHE if self.quotient_tranche is None else self.quotient_tranche

    @property
    def declared_only(self) -> frozenset[str]:
        """The validatable facts the family declared (a tranche, true) that no agent has validated yet."""
        declared = {"quotient_tranche": self.quotient_tranche is not None, "single_parent": self.single_parent,
                    "disability_allowance": self.disability_allowance}
        return frozenset(fact for fact, said in declared.items() if said and fact not in self.validated)

    def counted(self) -> Facts:
        """The facts as a policy requiring validated facts reads them: a declared-only one is as if not
        declared (no single parent, no allowance, no quotient on file: tranche 10, which meets no
        quotient threshold)."""
        dropped = self.declared_only
        if not dropped:
            return self
        return replace(self, **{fact: None if fact == "quotient_tranche" else False for fact in dropped})


@dataclass(frozen=True)
class Application:
    application_id: str  # a UUID in its canonical lower-case text: the lottery hashes this exact text
    child_id: str
    family_account: str
    age_at_reference_date: int  # whole years: see shared.domain.ages.age_on
    choices: tuple[str, ...]  # offer ids, first choice first
    facts: Facts
    arrival_position: int  # position in the intake log: first come, first served follows it
    sibling_group_id: str | None = None  # shared by siblings who asked to be placed together

    def __post_init__(self):
        object.__setattr__(self, "choices", tuple(self.choices))
        if self.age_at_reference_date < 0:
            raise ValueError(f"application {self.application_id}: negative age")

