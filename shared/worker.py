"""Run a service's background loops (consumers, outbox relay, schedulers) in one process until SIGTERM."""
from __future__ import annotations

import logging
import signal
import threading
from typing import Protocol, Sequence

log = logging.getLogger(__name__)


class Loop(Protocol):
    def run(self) -> None: ...

    def stop(self) -> None: ...


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
