"""Changing an application's ranked choices (and the siblings it is kept with) before the close: when it is
allowed, and which siblings' applications it may name. The choices themselves are checked as at intake
(`applications.check_choices`)."""
from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from services.registrations.domain.applications import ACTIVE_STATUSES, ApplicationStatus, CampaignTerms
from shared.domain.violations import Violation

CHOICES_CHANGED = "choices changed by the parent"  # the history entry's reason: « choix modifiés le … »


class ChoicesFixed(Exception):
    """The application's choices can no longer change; `code` says why."""

    def __init__(self, code: str, message: str, status: str):
        super().__init__(message)
        self.code, self.status = code, status


def check_choices_changeable(campaign: CampaignTerms, status: str) -> None:
    """Only an application not yet decided, of a campaign decided by a draw, changes its choices.

    First-come campaigns hold a place (or a waitlist position) at intake at the first ranked offer with room: the
    place held was decided by the choices at arrival, and new choices cannot keep it without jumping the queue of
    the offers they name, nor give it back without losing it. Lottery campaigns draw after the close: arrival
    order plays no part, so the application, its id and its draw line stay as they are."""
    if campaign.first_come_first_served:
        raise ChoicesFixed("choices-fixed-first-come", "In a first-come campaign the place held was decided by the "
                           "choices at arrival: they cannot change. Withdraw and apply again only if you accept to "
                           "lose it (a new application starts at the back of the queue).", status)
    if status != ApplicationStatus.RECEIVED:
        raise ChoicesFixed("choices-fixed-decided", "This application is decided (or withdrawn): its choices can "
                           "no longer change.", status)


def sibling_violations(application_id: UUID, kept: list[UUID], family_campaign_applications: Mapping[UUID, str]
                       ) -> list[Violation]:
    """`kept` must name other active applications of the same family in the same campaign, once each.
    `family_campaign_applications`: the family's applications to this campaign, id → status."""
    violations: list[Violation] = []
    seen: set[UUID] = set()
    for index, other in enumerate(kept):
        where = f"keep_with_applications.{index}"
        if other in seen:
            violations.append(Violation("duplicate-sibling", where, "This application is named twice."))
        elif other == application_id:
            violations.append(Violation("sibling-is-itself", where, "An application is not kept with itself."))
        elif family_campaign_applications.get(other) not in ACTIVE_STATUSES:
            violations.append(Violation("sibling-not-found", where, "No application of your household to this "
                                        "campaign, still in the running, has this id."))
        seen.add(other)
    return violations
