"""Applications: what intake checks, and the ledger's state machine."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from services.registrations.domain.waiting_room import RoomTerms
from shared.domain.ages import age_on
from shared.domain.paris import paris_day
from shared.domain.policy import AllocationMode
from shared.domain.violations import RuleViolation, Violation


class ApplicationStatus(StrEnum):
    RECEIVED = "received"
    ALLOCATED = "allocated"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


S = ApplicationStatus
ALLOWED_TRANSITIONS: Mapping[ApplicationStatus, frozenset[ApplicationStatus]] = {
    S.RECEIVED: frozenset({S.ALLOCATED, S.WAITLISTED, S.REJECTED, S.WITHDRAWN}),
    # A waitlisted child can be offered a place later (waitlist promotion).
    S.WAITLISTED: frozenset({S.ALLOCATED, S.REJECTED, S.WITHDRAWN}),
    S.ALLOCATED: frozenset({S.CONFIRMED, S.DECLINED, S.EXPIRED, S.WITHDRAWN}),
    # Withdrawing after confirmation is allowed: billing receives a reversal.
    S.CONFIRMED: frozenset({S.WITHDRAWN}),
    S.REJECTED: frozenset(),
    S.DECLINED: frozenset(),
    S.EXPIRED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
# The role of a city employee who acts for a family (issue 16): what the family's history says was done for it.
AGENT_ROLE = "agent"
# A child has at most one application in these states per campaign.
ACTIVE_STATUSES = frozenset({S.RECEIVED, S.ALLOCATED, S.WAITLISTED, S.CONFIRMED})


class TransitionRefused(Exception):
    def __init__(self, current: ApplicationStatus, wanted: ApplicationStatus):
        super().__init__(f"an application that is {current} cannot become {wanted}")
        self.current, self.wanted = current, wanted


def check_transition(current: ApplicationStatus, wanted: ApplicationStatus) -> None:
    if wanted not in ALLOWED_TRANSITIONS[current]:
        raise TransitionRefused(current, wanted)


class WithdrawalRefused(TransitionRefused):
    """The parent asked to withdraw an application the state machine no longer lets go (decided and gone)."""


class WithdrawalAfterActivity(WithdrawalRefused):
    """A place is given up before or during its activity, never once it has ended: there is nothing left
    to give back (docs/campaigns.md#lifecycle)."""

    def __init__(self, current: ApplicationStatus, ends_on: date):
        super().__init__(current, ApplicationStatus.WITHDRAWN)
        self.args = (f"the activity ended on {ends_on.isoformat()}: its place can no longer be given up",)
        self.ends_on = ends_on


def check_withdrawal(current: ApplicationStatus, offer_ends_on: date | None, now: datetime) -> None:
    """The state machine's rule, and: a place (offered or confirmed) is not given up after its activity's
    last day (Paris calendar)."""
    check_transition(current, ApplicationStatus.WITHDRAWN)
    holds_a_place = current in (ApplicationStatus.ALLOCATED, ApplicationStatus.CONFIRMED)
    if holds_a_place and offer_ends_on is not None and paris_day(now) > offer_ends_on:
        raise WithdrawalAfterActivity(current, offer_ends_on)


class OfferNotOpen(Exception):
    """Accept/decline: no place is offered to this application (any more)."""

    def __init__(self, status: str, expired: bool = False):
        super().__init__("the offered place has expired" if expired else f"no place is offered (status {status})")
        self.status, self.expired = status, expired


def check_offer_open(status: str, offer_expires_at: datetime | None, now: datetime) -> None:
    """A parent answers an offer only while the application is allocated and before the offer's deadline."""
    if status != ApplicationStatus.ALLOCATED:
        raise OfferNotOpen(status)
    if offer_expires_at is not None and now >= offer_expires_at:
        raise OfferNotOpen(status, expired=True)


@dataclass(frozen=True)
class OfferTerms:
    """What intake needs of an offer."""
    offer_id: UUID
    title: str
    min_age: int
    max_age: int
    capacity: int
    waitlist_limit: int | None


@dataclass(frozen=True)
class CampaignTerms:
    """What intake needs of a campaign, read from the cached `campaign.*` snapshot."""
    campaign_id: UUID
    version: int
    mode: str
    opens_at: datetime
    closes_at: datetime
    reference_date: date
    max_choices: int
    offers: Mapping[UUID, OfferTerms] = field(default_factory=dict)
    accepting: bool = True  # False once closed early, allocated or archived
    waiting_room: RoomTerms | None = None  # the campaign's waiting room (domain/waiting_room.py), if any

    @property
    def first_come_first_served(self) -> bool:
        return self.mode == AllocationMode.FIRST_COME


class WindowNotOpenYet(Exception):
    def __init__(self, opens_at: datetime):
        super().__init__(f"applications open at {opens_at.isoformat()}")
        self.opens_at = opens_at


class WindowClosed(Exception):
    def __init__(self, closes_at: datetime):
        super().__init__(f"applications closed at {closes_at.isoformat()}")
        self.closes_at = closes_at


def check_window(campaign: CampaignTerms, now: datetime) -> None:
    """By the server's clock: [opens_at, closes_at)."""
    if now < campaign.opens_at:
        raise WindowNotOpenYet(campaign.opens_at)
    if now >= campaign.closes_at or not campaign.accepting:
        raise WindowClosed(min(campaign.closes_at, now))


class ApplicationInvalid(RuleViolation):
    """The choices break the campaign's rules; each violation names the offer it concerns, if any."""


def check_choices(campaign: CampaignTerms, birth_date: date, choices: list[UUID], sworn_statement: bool) -> None:
    """Every ranked choice is an offer of this campaign that fits the child's age at the reference date."""
    violations: list[Violation] = []
    if not sworn_statement:
        violations.append(Violation("sworn-statement-required", "sworn_statement",
                                    "The parent must certify the information given."))
    if not choices:
        violations.append(Violation("no-choice", "choices", "Rank at least one offer."))
    if len(choices) > campaign.max_choices:
        violations.append(Violation("too-many-choices", "choices",
                                    f"This campaign takes at most {campaign.max_choices} ranked choices."))
    seen: set[UUID] = set()
    age = age_on(birth_date, campaign.reference_date)
    for rank, offer_id in enumerate(choices):
        where = f"choices.{rank}"
        if offer_id in seen:
            violations.append(Violation("duplicate-choice", where, "This offer is ranked twice.", offer_id))
            continue
        seen.add(offer_id)
        offer = campaign.offers.get(offer_id)
        if offer is None:
            violations.append(Violation("offer-not-in-campaign", where,
                                        "This offer does not belong to the campaign.", offer_id))
        elif not offer.min_age <= age <= offer.max_age:
            violations.append(Violation(
                "age-out-of-range", where,
                f"« {offer.title} » takes children aged {offer.min_age} to {offer.max_age} on "
                f"{campaign.reference_date.isoformat()}; this child will be {age}.", offer_id))
    if violations:
        raise ApplicationInvalid(violations)
