"""Publish a draft: visible to families, announced to the other services, it opens at opens_at."""
from __future__ import annotations

from services.campaigns import domain
from services.campaigns.store.repository import StoredCampaign
from services.campaigns.usecases.writing import SYSTEM, CampaignWriter
from shared.audit import Actor


def publish_campaign(writer: CampaignWriter, campaign_id: str, expected_version: int, *,
                     actor: Actor = SYSTEM) -> StoredCampaign:
    return writer.change(campaign_id, expected_version,
                         lambda stored, now: domain.publish_campaign(stored.campaign, now),
                         actor=actor, what="campaign.publish")
