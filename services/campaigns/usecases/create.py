"""Create a draft campaign, with its first offers or without."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.campaigns import domain
from services.campaigns.domain.cloning import new_uuid
from services.campaigns.store.repository import StoredCampaign
from services.campaigns.usecases.writing import SYSTEM, CampaignWriter, new_offer
from shared.audit import Actor


def create_campaign(writer: CampaignWriter, fields: Mapping[str, Any],
                    offers: Sequence[Mapping[str, Any]], *, actor: Actor = SYSTEM) -> StoredCampaign:
    draft = domain.create_campaign(id=new_uuid(), offers=tuple(new_offer(offer) for offer in offers), **fields)
    return writer.add(draft, actor=actor, what="campaign.create")
