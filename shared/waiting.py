"""The one way Guichet waits for something to become true: a server to answer, a worker to catch up,
a record to arrive. Used by the local stack, the tests and the benchmarks alike."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimedOut(AssertionError):
    """The condition did not hold in time; an AssertionError so a test reads it as a failed expectation."""


def wait_until(condition: Callable[[], T], *, timeout: float, interval: float = 0.1, what: str = "the condition",
               ignore: tuple[type[BaseException], ...] = ()) -> T:
    """Call `condition` until it returns something truthy, and return that. Exceptions of the `ignore`
    types count as "not yet" (a server booting refuses connections); the last one is named on time-out."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = condition()
            if result:
                return result
        except ignore as error:
            last_error = error
        if time.monotonic() >= deadline:
            because = f" (last error: {last_error!r})" if last_error is not None else ""
            raise WaitTimedOut(f"{what} did not happen within {timeout:g} s{because}")
        time.sleep(interval)
