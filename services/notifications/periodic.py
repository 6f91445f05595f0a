"""A worker loop that runs one round of work every few seconds until it is stopped."""
from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, round_of_work: Callable[[], object], interval_seconds: float):
        self.name = name
        self.round_of_work = round_of_work
        self.interval_seconds = interval_seconds
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.round_of_work()
            except Exception:  # noqa: BLE001 — database away: nothing was committed, the next round retries
                log.exception("worker round failed", extra={"loop": self.name})
            self._stopping.wait(self.interval_seconds)

    def stop(self) -> None:
        self._stopping.set()
