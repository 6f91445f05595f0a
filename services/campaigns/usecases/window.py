"""Move an application window's close: now (close early, while it is open) or later (extend, before it closes)."""
from __future__ import annotations

from datetime import datetime

from services.campaigns import domain
from services.campaigns.store.repository import StoredCampaign
from services.campaigns.usecases.writing import SYSTEM, CampaignWriter
from shared.audit import Actor


def close_early(writer: CampaignWriter, campaign_id: str, expected_version: int, *,
                actor: Actor = SYSTEM) -> StoredCampaign:
    return writer.change(campaign_id, expected_version, lambda stored, now: domain.close_early(stored.campaign, now),
                         actor=actor, what="campaign.close_early")


def extend_close(writer: CampaignWriter, campaign_id: str, expected_version: int,
                 closes_at: datetime, *, actor: Actor = SYSTEM) -> StoredCampaign:
    return writer.change(campaign_id, expected_version,
                         lambda stored, now: domain.extend_close(stored.campaign, closes_at, now),
                         actor=actor, what="campaign.extend_close")
