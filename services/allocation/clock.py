"""The one reading of the time, passed to every loop and view, so tests can move it (deadlines, draws)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
