"""The worker's loop that announces when intake has drained past a campaign's close
(usecases.intake_drain): twice a second, reading the intake log's ends and the ledger consumer's
committed offsets only while a closed campaign waits for its announcement."""
from __future__ import annotations

import logging

from services.registrations.usecases.intake_drain import IntakeDrain
from shared.worker import PeriodicLoop

log = logging.getLogger(__name__)


class IntakeDrainLoop(PeriodicLoop):
    def __init__(self, drain: IntakeDrain, interval_seconds: float = 0.5):
        super().__init__(interval_seconds)
        self.drain = drain

    def tick(self) -> None:
        for campaign_id in self.drain.announce_drained():
            log.info("intake drained past the close", extra={"campaign_id": str(campaign_id)})
