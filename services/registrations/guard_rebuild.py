"""Rebuild intake's Redis state from the ledger, never from guesses.

Redis is empty on a first start and after it was lost. Intake refuses submissions (503, retry)
while the `reg:ready` marker is missing, so nothing new is acknowledged meanwhile. Once the
intake consumer has written every acknowledged application to the ledger (its lag is 0, after a
grace period for submissions that were already on their way to the broker), the counters are
recomputed from the ledger's active applications and the marker is set.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import redis
from sqlalchemy import Engine, select

from services.registrations.domain.applications import ACTIVE_STATUSES
from services.registrations.intake_guard import READY_KEY, active_key, active_value, held_key, waitlist_key
from services.registrations.ledger import counted_position
from services.registrations.tables import applications

log = logging.getLogger(__name__)


def rebuild_from_ledger(engine: Engine, client: redis.Redis) -> int:
    with engine.connect() as connection:
        rows = connection.execute(
            select(applications.c.campaign_id, applications.c.child_id, applications.c.application_id,
                   applications.c.hold, applications.c.status, applications.c.placed_offer_id)
            .where(applications.c.status.in_([str(s) for s in ACTIVE_STATUSES]))).mappings().all()
    counters: dict[str, int] = {}
    for row in rows:
        offer_id, has_place = counted_position(row)
        if offer_id is None:
            continue
        key = (held_key if has_place else waitlist_key)(row["campaign_id"], offer_id)
        counters[key] = counters.get(key, 0) + 1
    stale = list(client.scan_iter(match="reg:{*}:*", count=1000))
    pipeline = client.pipeline(transaction=True)
    if stale:
        pipeline.delete(*stale)
    for row in rows:
        pipeline.set(active_key(row["campaign_id"], row["child_id"]), active_value(row["application_id"], row["hold"]))
    for key, value in counters.items():
        pipeline.set(key, value)
    pipeline.set(READY_KEY, str(time.time()))
    pipeline.execute()
    return len(rows)


class GuardKeeper:
    """Watches for a missing `reg:ready` marker and rebuilds once it is safe."""

    def __init__(self, engine: Engine, client: redis.Redis, intake_lag: Callable[[], int],
                 grace_seconds: float = 10.0, poll_seconds: float = 1.0):
        self.engine = engine
        self.redis = client
        self.intake_lag = intake_lag
        self.grace_seconds = grace_seconds
        self.poll_seconds = poll_seconds
        self._stopping = threading.Event()
        self._missing_since: float | None = None

    def check_once(self) -> bool:
        """True when the guard is ready (already, or rebuilt now)."""
        if self.redis.exists(READY_KEY):
            self._missing_since = None
            return True
        now = time.monotonic()
        if self._missing_since is None:
            self._missing_since = now
            log.warning("intake guard missing in Redis: rebuilding from the ledger once intake is caught up")
        if now - self._missing_since < self.grace_seconds or self.intake_lag() > 0:
            return False
        count = rebuild_from_ledger(self.engine, self.redis)
        log.info("intake guard rebuilt from the ledger", extra={"active_applications": count})
        self._missing_since = None
        return True

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.check_once()
            except Exception:  # noqa: BLE001 — Redis or Postgres away: try again
                log.exception("guard check failed")
            self._stopping.wait(self.poll_seconds)

    def stop(self) -> None:
        self._stopping.set()
