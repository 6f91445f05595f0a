"""When a family who asked for it is reminded that a campaign's applications close soon."""
from __future__ import annotations

from datetime import datetime, timedelta

# The scheduler reminds from 24 h before the close until the close: a family who asks within the last 24 h
# is reminded at once, since that is exactly the news it asked for.
CLOSING_AHEAD = timedelta(hours=24)


def still_open_to_reminders(closes_at: datetime, closed_at: datetime | None, now: datetime) -> bool:
    """A closed campaign (on time or early) has nothing left to remind of."""
    return closed_at is None and now < closes_at
