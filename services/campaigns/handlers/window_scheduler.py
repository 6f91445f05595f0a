"""Announces each window's opening and closing (`campaign.opened`, `campaign.closed`) once, at
its instant, through the outbox.

Exactly once across restarts: an announcement is one transaction that inserts the transition's
key (unique) and the outbox row together. A scheduler that dies before the commit left neither
and announces it after its restart; one that dies after left both, so the key prevents a repeat
while the relay publishes the row. Two schedulers at once take turns on the campaign row.
"""
from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from services.campaigns.domain import Transition, due_transitions
from services.campaigns.store.repository import (
    campaign_ids_with_pending_transitions,
    emitted_transition_keys,
    get_campaign,
    record_transition,
)
from services.campaigns.store.snapshots import window_event
from services.campaigns.store.tables import outbox
from shared.clock import Clock
from shared.db import transaction
from shared.outbox import record_event

log = logging.getLogger(__name__)


class WindowScheduler:
    def __init__(self, engine: Engine, clock: Clock, interval_seconds: float = 0.5):
        self.engine = engine
        self.clock = clock
        self.interval_seconds = interval_seconds
        self._stopping = threading.Event()

    def announce_due(self) -> list[Transition]:
        """Announce every transition due now; returns what this call announced."""
        with self.engine.connect() as connection:
            campaign_ids = campaign_ids_with_pending_transitions(connection, self.clock())
        return [transition for campaign_id in campaign_ids for transition in self._announce_for(campaign_id)]

    def _announce_for(self, campaign_id: str) -> list[Transition]:
        with transaction(self.engine) as connection:
            stored = get_campaign(connection, campaign_id, lock=True)
            # Read after the lock: a manager's change committed meanwhile is seen, not overtaken.
            now = self.clock()
            due = due_transitions(stored.campaign, now, emitted_transition_keys(connection, campaign_id))
            for transition in due:
                event = window_event(transition, stored.version, now)
                record_transition(connection, transition, event.id)
                record_event(connection, outbox, event, key=campaign_id)
        for transition in due:
            log.info("window transition announced", extra={"key": transition.key})
        return due

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.announce_due()
            except Exception:  # noqa: BLE001 — database away: nothing was committed, the next round retries
                log.exception("scheduler round failed")
            self._stopping.wait(self.interval_seconds)

    def stop(self) -> None:
        self._stopping.set()
