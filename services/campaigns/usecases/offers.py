"""Add, change and remove a campaign's offers. An offer named in the request that the campaign does not
have is OfferNotFound (it is in the URL), not a broken rule."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from services.campaigns import domain
from services.campaigns.domain import Campaign, OfferNotFound
from services.campaigns.store.repository import StoredCampaign
from services.campaigns.usecases.writing import SYSTEM, Action, CampaignWriter, new_offer
from shared.audit import Actor


def add_offer(writer: CampaignWriter, campaign_id: str, expected_version: int,
              fields: Mapping[str, Any], *, actor: Actor = SYSTEM) -> StoredCampaign:
    """The new offer comes last."""
    return writer.change(campaign_id, expected_version,
                         lambda stored, now: domain.add_offer(stored.campaign, new_offer(fields), now),
                         actor=actor, what="offer.add")


def update_offer(writer: CampaignWriter, campaign_id: str, offer_id: str, expected_version: int,
                 changes: Mapping[str, Any], *, actor: Actor = SYSTEM) -> StoredCampaign:
    """Capacity never below the places given; ages, tariffs and place fixed once open."""
    return writer.change(campaign_id, expected_version, _on_existing_offer(
        offer_id, lambda stored, now: domain.update_offer(
            stored.campaign, offer_id, changes, now, places_given=stored.places_given_for(offer_id))),
        actor=actor, what="offer.edit")


def remove_offer(writer: CampaignWriter, campaign_id: str, offer_id: str, expected_version: int, *,
                 actor: Actor = SYSTEM) -> StoredCampaign:
    """Only before the window opens."""
    return writer.change(campaign_id, expected_version, _on_existing_offer(
        offer_id, lambda stored, now: domain.remove_offer(stored.campaign, offer_id, now)),
        actor=actor, what="offer.remove")


def _on_existing_offer(offer_id: str, action: Callable[[StoredCampaign, datetime], Campaign]) -> Action:
    def apply(stored: StoredCampaign, now: datetime) -> Campaign:
        if stored.campaign.offer(offer_id) is None:
            raise OfferNotFound(offer_id)
        return action(stored, now)
    return apply
