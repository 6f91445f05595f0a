"""Change fields of a campaign (the window's opening is fixed once it has opened)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.campaigns import domain
from services.campaigns.store.repository import StoredCampaign
from services.campaigns.usecases.writing import SYSTEM, CampaignWriter
from shared.audit import Actor


def update_campaign(writer: CampaignWriter, campaign_id: str, expected_version: int,
                    changes: Mapping[str, Any], *, actor: Actor = SYSTEM) -> StoredCampaign:
    return writer.change(campaign_id, expected_version,
                         lambda stored, now: domain.update_campaign(stored.campaign, changes, now),
                         actor=actor, what="campaign.edit")
