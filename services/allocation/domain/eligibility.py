"""Hard eligibility: which ranked choices may be allocated at all, and why the others are dropped."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.allocation.domain.model import Application, CampaignPolicy, Offer
from services.allocation.domain.result import Reason, ReasonCode


@dataclass(frozen=True)
class RankedList:
    offer_ids: tuple[str, ...]  # known offers, each once, within the campaign's maximum
    dropped: tuple[Reason, ...]


def ranked_list(application: Application, offers: Mapping[str, Offer], policy: CampaignPolicy) -> RankedList:
    """The choices as ranked, cleaned of what no rule could allocate whoever the child is."""
    kept: list[str] = []
    dropped: list[Reason] = []
    for offer_id in application.choices:
        if offer_id in kept:
            dropped.append(Reason(ReasonCode.DUPLICATE_CHOICE, offer_id))
        elif policy.max_choices is not None and len(kept) == policy.max_choices:
            dropped.append(Reason(ReasonCode.BEYOND_MAX_CHOICES, offer_id))
        elif offer_id not in offers:
            dropped.append(Reason(ReasonCode.UNKNOWN_OFFER, offer_id))
        else:
            kept.append(offer_id)
    return RankedList(tuple(kept), tuple(dropped))


def ineligibility(application: Application, offer: Offer, policy: CampaignPolicy) -> ReasonCode | None:
    age = application.age_at_reference_date
    if age < offer.min_age:
        return ReasonCode.TOO_YOUNG
    if age > offer.max_age:
        return ReasonCode.TOO_OLD
    required = policy.residence_required_arrondissements
    if required is not None and application.facts.residence_arrondissement not in required:
        return ReasonCode.RESIDENCE_NOT_ACCEPTED
    return None


def earliest_application_per_child(applications: list[Application]) -> tuple[list[Application], list[Application]]:
    """A child holds at most one place per campaign: only its first application takes part.

    Intake should refuse a second application; this keeps the allocation safe if one slipped through.
    """
    earliest: dict[str, Application] = {}
    for application in sorted(applications, key=lambda a: (a.arrival_position, a.application_id)):
        earliest.setdefault(application.child_id, application)
    kept_ids = {application.application_id for application in earliest.values()}
    ordered = sorted(applications, key=lambda a: a.application_id)
    return ([a for a in ordered if a.application_id in kept_ids],
            [a for a in ordered if a.application_id not in kept_ids])
