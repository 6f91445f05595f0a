"""A campaign's life after its window, from the campaigns worker: `allocated` when allocation announces
its draw (`lottery.seed_revealed`, on the campaign topic: the draw is published in the transaction that
reveals its seed), and `archived` once its season is over (a periodic job).

Both are idempotent in the domain (a campaign already allocated or archived is left as it is), so a
redelivered announcement or a second worker changes nothing and writes no second event."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from services.campaigns.usecases.lifecycle import archive_finished_seasons, record_draw_published
from services.campaigns.usecases.writing import CampaignWriter
from shared.events import parse_event
from shared.worker import PeriodicLoop

log = logging.getLogger(__name__)

DRAW_PUBLISHED = "lottery.seed_revealed"


def handle_campaign_topic_record(writer: CampaignWriter, record: Any) -> None:
    """The campaign topic carries this service's own `campaign.*` events too: skipped by their header."""
    event_type = dict(record.headers or ()).get("ce_type")
    if event_type is not None and event_type != DRAW_PUBLISHED.encode():
        return
    event = parse_event(record.value)
    if event.type == DRAW_PUBLISHED:
        data = event.data
        record_draw_published(writer, str(data["campaign_id"]), datetime.fromisoformat(str(data["revealed_at"])))


class SeasonArchiver(PeriodicLoop):
    """Archives campaigns whose season is over (domain.season_over), once a minute."""

    def __init__(self, writer: CampaignWriter, interval_seconds: float = 60.0):
        super().__init__(interval_seconds)
        self.writer = writer

    def tick(self) -> None:
        for campaign_id in archive_finished_seasons(self.writer):
            log.info("campaign archived after its season", extra={"campaign_id": campaign_id})
