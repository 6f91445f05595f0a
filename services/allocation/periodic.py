"""A worker loop that does one round of work every few seconds until it is stopped."""
from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class PeriodicLoop:
    """Subclasses define `tick()`. A failed round (database away) committed nothing and is logged; the
    next round retries."""

    def __init__(self, interval_seconds: float):
        self.interval_seconds = interval_seconds
        self._stopping = threading.Event()

    def tick(self) -> None:
        raise NotImplementedError

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 — keep the loop alive; the round is retried
                log.exception("worker round failed", extra={"loop": type(self).__name__})
            self._stopping.wait(self.interval_seconds)

    def stop(self) -> None:
        self._stopping.set()
