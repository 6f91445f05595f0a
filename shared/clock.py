"""A service's one reading of the time, passed in everywhere (never read inside a domain), so tests and
schedulers can be driven across a window's instants, deadlines and draws."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
