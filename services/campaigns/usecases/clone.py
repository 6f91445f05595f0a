"""Copy a campaign into a new draft moved in time (last winter's into this winter's)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from services.campaigns import domain
from services.campaigns.store.repository import StoredCampaign
from services.campaigns.usecases.writing import SYSTEM, CampaignWriter
from shared.audit import Actor


def clone_campaign(writer: CampaignWriter, source_id: str, *, title: str | None = None,
                   new_opens_at: datetime | None = None, shift_days: int | None = None,
                   reference_date: date | None = None, actor: Actor = SYSTEM) -> StoredCampaign:
    source = writer.get(source_id)
    draft = domain.clone_campaign(source.campaign, title=title, new_opens_at=new_opens_at,
                                  shift=None if shift_days is None else timedelta(days=shift_days),
                                  reference_date=reference_date)
    return writer.add(draft, actor=actor, what="campaign.clone")
