"""When a family is reminded of a place offered to it: 24 h before the deadline, once."""
from __future__ import annotations

from datetime import datetime, timedelta

REMINDER_AHEAD = timedelta(hours=24)


def reminder_time(expires_at: datetime, offered_at: datetime) -> datetime | None:
    """When to remind, or None when the offer was made later than that: a reminder right after the
    offer itself would only be noise."""
    remind_at = expires_at - REMINDER_AHEAD
    return remind_at if remind_at > offered_at else None
