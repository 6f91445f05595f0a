"""Run a service's background loops (consumers, outbox relay, schedulers) in one process until SIGTERM."""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)


class Loop(Protocol):
    def run(self) -> None: ...

    def stop(self) -> None: ...


class PeriodicLoop:
    """One round of work every `interval_seconds` until stopped: subclasses define `tick()`, or pass
    `round_of_work`. A failed round (database away) committed nothing and is logged; the next retries."""

    def __init__(self, interval_seconds: float, round_of_work: Callable[[], object] | None = None,
                 name: str | None = None):
        self.interval_seconds = interval_seconds
        self.round_of_work = round_of_work
        self.name = name or type(self).__name__
        self._stopping = threading.Event()

    def tick(self) -> None:
        if self.round_of_work is None:
            raise NotImplementedError("define tick() or pass round_of_work")
        self.round_of_work()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 — keep the loop alive; the round is retried
                log.exception("worker round failed", extra={"loop": self.name})
            self._stopping.wait(self.interval_seconds)

    def stop(self) -> None:
        self._stopping.set()


def run_loops(loops: Sequence[Loop], install_signals: bool = True) -> None:
    """Each loop in its own thread; SIGTERM/SIGINT (or one loop dying) stops them all cleanly."""
    stopped = threading.Event()

    def stop_all(*_):
        stopped.set()

    if install_signals:
        signal.signal(signal.SIGTERM, stop_all)
        signal.signal(signal.SIGINT, stop_all)

    def guarded(loop: Loop) -> None:
        try:
            loop.run()
        except Exception:  # noqa: BLE001 — a dead loop must not leave the process half-working
            log.exception("worker loop died", extra={"loop": type(loop).__name__})
        finally:
            stopped.set()

    threads = [threading.Thread(target=guarded, args=(loop,), name=type(loop).__name__, daemon=True)
               for loop in loops]
    for thread in threads:
        thread.start()
    stopped.wait()
    for loop in loops:
        loop.stop()
    for thread in threads:
        thread.join(timeout=30)
