"""A campaign's life after its window: allocated when allocation publishes its draw, archived by a
manager or once its season is over. Each is one transaction with its `campaign.updated` event;
repeating one (a redelivered announcement, a manager's double click) changes nothing."""
from __future__ import annotations

from datetime import datetime

from services.campaigns import domain
from services.campaigns.store.repository import StoredCampaign
from services.campaigns.usecases.writing import CampaignWriter
from shared.audit import Actor

# The worker's actions, as the audit trail names them.
LIFECYCLE_WORKER = Actor.system("lifecycle")


def archive_campaign(writer: CampaignWriter, campaign_id: str, *, actor: Actor = LIFECYCLE_WORKER) -> StoredCampaign:
    return writer.change_latest(campaign_id, lambda stored, now: domain.archive_campaign(stored.campaign, now),
                                actor=actor, what="campaign.archive")


def record_draw_published(writer: CampaignWriter, campaign_id: str, published_at: datetime, *,
                          actor: Actor = LIFECYCLE_WORKER) -> StoredCampaign:
    return writer.change_latest(
        campaign_id, lambda stored, now: domain.record_draw_published(stored.campaign, published_at, now),
        actor=actor, what="campaign.allocated")


def archive_finished_seasons(writer: CampaignWriter) -> list[str]:
    """Archive every campaign whose season is over (domain.season_over); returns their ids."""
    now = writer.clock()
    finished = [stored.campaign.id for stored in writer.find(now) if domain.season_over(stored.campaign, now)]
    for campaign_id in finished:
        archive_campaign(writer, campaign_id)
    return finished
