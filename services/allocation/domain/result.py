"""What the allocation answers: an outcome and an explanation per application, and statistics."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class Status(StrEnum):
    ALLOCATED = "allocated"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"


class ReasonCode(StrEnum):
    NO_CHOICE = "no_choice"
    DUPLICATE_CHILD = "duplicate_child"  # the child's earliest application is the one allocated
    DUPLICATE_CHOICE = "duplicate_choice"
    BEYOND_MAX_CHOICES = "beyond_max_choices"
    UNKNOWN_OFFER = "unknown_offer"
    TOO_YOUNG = "too_young"
    TOO_OLD = "too_old"
    RESIDENCE_NOT_ACCEPTED = "residence_not_accepted"
    SIBLING_NOT_ELIGIBLE = "sibling_not_eligible"  # a brother or sister in the group cannot go there
    SIBLINGS_NOT_KEPT_TOGETHER = "siblings_not_kept_together"  # no ranked offer takes the whole group
    # Rule 2: re-proposal did not settle with the group together (see docs/allocation.md), so its
    # children applied alone.
    SIBLINGS_SPLIT_TO_SETTLE = "siblings_split_to_settle"
    WAITLIST_FULL = "waitlist_full"
    # The policy requires validated facts and this criterion's fact was only declared: not met (issue 16).
    FACT_NOT_VALIDATED = "fact_not_validated"


@dataclass(frozen=True, repr=False)
class Reason:
    code: ReasonCode
    offer_id: str | None = None
    criterion: str | None = None  # for fact_not_validated: the label of the criterion not counted

    def __repr__(self) -> str:
        """As before `criterion` existed when it is None: saved results' digests (repr) stay comparable."""
        extra = "" if self.criterion is None else f", criterion={self.criterion!r}"
        return f"Reason(code={self.code!r}, offer_id={self.offer_id!r}{extra})"


@dataclass(frozen=True)
class WaitlistPosition:
    offer_id: str
    position: int  # 1 is next in line


class Standing(StrEnum):
    ADMITTED = "admitted"
    NOT_ADMITTED = "not_admitted"
    NOT_NEEDED = "not_needed"  # ranked below the place obtained, so never competed for


class TieBreak(StrEnum):
    LOTTERY = "lottery"  # lottery number, lower wins
    ARRIVAL = "arrival"  # arrival rank, 1 is the first application received


@dataclass(frozen=True)
class Cutoff:
    """The last applicant admitted on one kind of seats: who a parent had to beat."""
    seats: str  # "open", or the label of the criterion the seats are reserved for
    tier: int
    tie_break: int


@dataclass(frozen=True)
class OfferExplanation:
    offer_id: str
    rank: int  # position in the ranked list (a sibling group's: its first application's), 1 = first choice
    tier: int  # 1 is the best; every applicant is in tier 1 unless the mode is priority_lottery
    criteria_met: tuple[str, ...]  # labels, in the policy's order
    standing: Standing
    cutoffs: tuple[Cutoff, ...]  # only when not admitted; reserves first, then the open seats
    waitlist_position: int | None


@dataclass(frozen=True)
class Explanation:
    tie_break_kind: TieBreak
    tie_break: int | None  # None when the application never reached the allocation
    tickets: int
    sibling_group: tuple[str, ...]  # applications allocated as one unit with this one, itself included
    offers: tuple[OfferExplanation, ...]  # every eligible offer ranked, best first


@dataclass(frozen=True)
class Outcome:
    application_id: str
    status: Status
    offer_id: str | None  # the place, when allocated
    waitlist: tuple[WaitlistPosition, ...]  # in the child's order of preference, also above a place held
    reasons: tuple[Reason, ...]  # choices dropped before the allocation, and why a rejection happened
    explanation: Explanation


class Choice(NamedTuple):
    """An `OfferExplanation` as the core keeps it (the same fields, `cutoffs` before `waitlist_position`)."""
    offer_id: str
    rank: int
    tier: int
    criteria_met: tuple[str, ...]
    standing: Standing
    cutoffs: tuple[Cutoff, ...]
    waitlist_position: int | None


class Decided(NamedTuple):
    """An `Outcome` and its `Explanation` as the core keeps them, which a draw writes without making the objects:
    a waitlist position is (offer id, position); equal choices without a waitlist position are one shared tuple."""
    application_id: str
    status: Status
    offer_id: str | None
    waitlist: tuple[tuple[str, int], ...]
    reasons: tuple[Reason, ...]
    tie_break_kind: TieBreak
    tie_break: int | None
    tickets: int
    sibling_group: tuple[str, ...]
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class ReserveUse:
    criterion: str
    seats: int
    taken: int


@dataclass(frozen=True)
class OfferStatistics:
    offer_id: str
    capacity: int
    placed: int
    fill_rate: float  # placed / capacity; 0.0 for an offer without seats
    waitlist_length: int
    reserves: tuple[ReserveUse, ...]


@dataclass(frozen=True)
class Statistics:
    applications: int
    allocated: int
    waitlisted: int
    rejected: int
    offers: tuple[OfferStatistics, ...]
    placed_by_tier: Mapping[int, int]  # tier at the offer obtained → children placed


@dataclass(frozen=True)
class AllocationResult:
    outcomes: Mapping[str, Outcome]  # by application id; the core's are rendered when read (explain.Outcomes)
    statistics: Statistics
