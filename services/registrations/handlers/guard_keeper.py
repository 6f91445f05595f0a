"""The guard keeper, a loop of the worker: rebuilds intake's Redis guard from the ledger once it is safe.

Once the `reg:ready` marker is missing, it waits until the intake consumer has written every
acknowledged application to the ledger (its lag is 0, after a grace period for submissions that
were already on their way to the broker), then rebuilds (`store.guard_rebuild`). Every worker
replica runs one; the rebuild's lease lets exactly one of them rebuild.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis
from sqlalchemy import Engine

from services.registrations.store.guard_rebuild import rebuild_from_ledger
from services.registrations.store.intake_guard import READY_KEY

log = logging.getLogger(__name__)


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
        if count is None:  # another worker rebuilds (or just did): look again at the next round
            return bool(self.redis.exists(READY_KEY))
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
