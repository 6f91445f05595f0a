"""Run a service's worker loops in background threads for a test, and wait on asynchronous effects."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from shared.waiting import wait_until

T = TypeVar("T")


@contextmanager
def running(loops: Sequence) -> Iterator[None]:
    threads = [threading.Thread(target=loop.run, daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for loop in loops:
            loop.stop()
        for thread in threads:
            thread.join(timeout=30)


def eventually(probe: Callable[[], T], timeout: float = 30.0, interval: float = 0.1, what: str = "condition") -> T:
    """Poll until `probe` returns something truthy and return it; fail (an AssertionError naming `what`)
    after `timeout` seconds. A probe's own exception fails the test at once: it is not "not yet"."""
    return wait_until(probe, timeout=timeout, interval=interval, what=what)
