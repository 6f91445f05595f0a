"""Europe/Paris: the zone windows, deadlines, birth dates and messages are read in, whatever the server's."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def paris_day(instant: datetime) -> date:
    """The day of the Paris calendar an instant falls on (birth and justification dates are such days)."""
    return instant.astimezone(PARIS).date()
