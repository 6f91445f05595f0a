"""Manager actions on a campaign's offers. Violations name fields relative to the offer, as in
the offer's own form; the offer is looked up by id."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from services.campaigns.domain.model import Campaign, CampaignStatus, Offer
from services.campaigns.domain.rules import offer_violations, validate_campaign
from services.campaigns.domain.status import has_opened, require_status
from services.campaigns.domain.values import is_int
from shared.domain.violations import RuleViolation, Violation, raise_if_any

EDITABLE_OFFER_FIELDS = frozenset({
    "title", "site", "arrondissement", "starts_on", "ends_on",
    "min_age", "max_age", "capacity", "waitlist_limit", "tariffs_cents",
})
# Families chose this offer on its ages, price and place (the arrondissement drives residence priority).
FROZEN_ONCE_OPEN = frozenset({"arrondissement", "min_age", "max_age", "tariffs_cents"})
_ACCEPTS_NEW_OFFERS = frozenset({CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.OPEN})
# The most offers a campaign holds (a season's programme is a few dozen): its listings stay light.
MAX_OFFERS_PER_CAMPAIGN = 200


def add_offer(campaign: Campaign, offer: Offer, now: datetime) -> Campaign:
    """Offers may be added while applications are still open (new places found mid-campaign)."""
    require_status(campaign, now, _ACCEPTS_NEW_OFFERS, "window.closed", "Les inscriptions sont closes")
    violations = offer_violations(offer, campaign)
    if campaign.offer(offer.id) is not None:
        violations.append(Violation(
            "offer.duplicate_id", "id", f"L'identifiant d'offre « {offer.id} » est déjà utilisé.",
        ))
    if len(campaign.offers) >= MAX_OFFERS_PER_CAMPAIGN:
        violations.append(Violation("offer.too_many", "id",
                                    f"Une campagne compte au plus {MAX_OFFERS_PER_CAMPAIGN} offres."))
    raise_if_any(violations)
    return validate_campaign(replace(campaign, offers=(*campaign.offers, offer)))


def update_offer(
    campaign: Campaign, offer_id: str, changes: Mapping[str, object], now: datetime, places_given: int,
) -> Campaign:
    """`places_given` is how many places of this offer are already given (offered or accepted):
    capacity never drops below it."""
    if places_given < 0:
        raise ValueError(f"places_given cannot be negative, got {places_given}")
    require_status(
        campaign, now, set(CampaignStatus) - {CampaignStatus.ARCHIVED},
        "campaign.archived", "Une campagne archivée ne se modifie plus",
    )
    current = _existing_offer(campaign, offer_id)
    violations = [
        Violation("offer.field_not_editable", name, "Ce champ de l'offre ne se modifie pas.")
        for name in changes if name not in EDITABLE_OFFER_FIELDS
    ]
    raise_if_any(violations)
    changed = {name: value for name, value in changes.items() if getattr(current, name) != value}
    if has_opened(campaign, now):
        violations += [
            Violation("offer.field_locked_once_open", name, "Les inscriptions ont ouvert : ce champ ne change plus.")
            for name in sorted(FROZEN_ONCE_OPEN & changed.keys())
        ]
    updated = replace(current, **changed)
    if is_int(updated.capacity) and updated.capacity < places_given:
        violations.append(Violation(
            "offer.capacity_below_places_given", "capacity",
            f"{places_given} places sont déjà attribuées : la capacité ne peut pas descendre en dessous.",
        ))
    violations += offer_violations(updated, campaign)
    raise_if_any(violations)
    offers = tuple(updated if offer.id == offer_id else offer for offer in campaign.offers)
    return validate_campaign(replace(campaign, offers=offers))


def remove_offer(campaign: Campaign, offer_id: str, now: datetime) -> Campaign:
    """Only before the window opens: afterwards families may have chosen it."""
    require_status(
        campaign, now, {CampaignStatus.DRAFT, CampaignStatus.SCHEDULED},
        "offer.not_removable_once_open", "Les inscriptions ont ouvert : l'offre ne se retire plus", field="offer_id",
    )
    _existing_offer(campaign, offer_id)
    return validate_campaign(replace(campaign, offers=tuple(o for o in campaign.offers if o.id != offer_id)))


def _existing_offer(campaign: Campaign, offer_id: str) -> Offer:
    offer = campaign.offer(offer_id)
    if offer is None:
        raise RuleViolation.single("offer.not_found", "offer_id", f"La campagne n'a pas d'offre « {offer_id} ».")
    return offer
