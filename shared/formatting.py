"""Dates, instants and amounts as a parent reads them, in French or English.

Instants are shown in Europe/Paris wall-clock time whatever the server's zone. Names of days and
months are written out here rather than taken from the system locale, which servers rarely have.
"""
from __future__ import annotations

from datetime import date, datetime

from shared.domain.paris import PARIS

DAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}


def long_date(day: date, language: str) -> str:
    """'mardi 3 mars 2026', 'dimanche 1er mars 2026'; 'Tuesday 3 March 2026'."""
    number = "1er" if language == "fr" and day.day == 1 else str(day.day)
    return f"{DAYS[language][day.weekday()]} {number} {MONTHS[language][day.month - 1]} {day.year}"


def paris_instant(instant: datetime, language: str) -> str:
    """'mardi 3 mars 2026 à 11 h 00'; 'Tuesday 3 March 2026 at 11:00', in Paris time."""
    local = instant.astimezone(PARIS)
    if language == "fr":
        return f"{long_date(local.date(), language)} à {local:%H} h {local:%M}"
    return f"{long_date(local.date(), language)} at {local:%H:%M}"


def euros(cents: int, language: str) -> str:
    """'9,00 €'; '€9.00'. Negative amounts (credits) keep their sign."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    if language == "fr":
        return f"{sign}{whole},{fraction:02d} €"
    return f"{sign}€{whole}.{fraction:02d}"
