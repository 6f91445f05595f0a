"""Instants are stored in UTC; managers enter and read them as Europe/Paris wall-clock times.

A naive local time is Paris time. Around daylight-saving changes a wall-clock time can be missing
(the spring-forward hour) or happen twice (the fall-back hour): the first is refused, the second
is refused unless the text carries an explicit offset, because guessing would open or close a
campaign an hour away from what the manager meant.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from shared.domain.paris import PARIS
from shared.domain.violations import RuleViolation


def parse_paris_datetime(text: str, field: str) -> datetime:
    """ISO-8601 text, with or without offset (naive means Paris), as an aware UTC datetime."""
    stripped = text.strip() if isinstance(text, str) else ""
    try:
        parsed = datetime.fromisoformat(stripped)
    except ValueError:
        parsed = None
    if parsed is None:
        raise RuleViolation.single(
            "datetime.invalid", field,
            f"« {text} » n'est pas une date et heure ISO-8601 (par exemple 2026-02-02T00:01).",
        )
    # A bare date would silently mean midnight; an opening or a closing needs an explicit time.
    if "T" not in stripped.upper() and " " not in stripped:
        raise RuleViolation.single(
            "datetime.time_required", field,
            f"« {text} » n'a pas d'heure : précisez-la (par exemple {stripped}T00:01).",
        )
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    return paris_wall_clock_to_utc(parsed, field)


def paris_wall_clock_to_utc(wall_clock: datetime, field: str) -> datetime:
    """A naive Paris wall-clock time as UTC, refusing times that DST makes missing or doubled."""
    earlier = wall_clock.replace(tzinfo=PARIS, fold=0)
    later = wall_clock.replace(tzinfo=PARIS, fold=1)
    shown = f"{wall_clock:%d/%m/%Y %H:%M}"
    if earlier.astimezone(UTC).astimezone(PARIS).replace(tzinfo=None) != wall_clock:
        raise RuleViolation.single(
            "datetime.nonexistent_local_time", field,
            f"{shown} n'existe pas à Paris : les horloges avancent d'une heure cette nuit-là "
            f"(passage à l'heure d'été). Choisissez une autre heure.",
        )
    if earlier.utcoffset() != later.utcoffset():
        raise RuleViolation.single(
            "datetime.ambiguous_local_time", field,
            f"{shown} existe deux fois à Paris (passage à l'heure d'hiver) : précisez le décalage, "
            f"{_offset(earlier)} pour la première fois ou {_offset(later)} pour la seconde.",
        )
    return earlier.astimezone(UTC)


def to_paris_iso(instant: datetime) -> str:
    """`2026-02-02T00:01:00+01:00`: Paris wall-clock time with its offset, for display and APIs."""
    return require_aware(instant, "instant").astimezone(PARIS).isoformat()


def paris_date(instant: datetime) -> date:
    return require_aware(instant, "instant").astimezone(PARIS).date()


def shift_paris_wall_clock(instant: datetime, shift: timedelta, field: str) -> datetime:
    """Move an instant by `shift` on the Paris wall clock, so 00:01 in winter stays 00:01 in summer."""
    local = require_aware(instant, field).astimezone(PARIS).replace(tzinfo=None)
    return paris_wall_clock_to_utc(local + shift, field)


def require_aware(instant: datetime, name: str) -> datetime:
    """Naive datetimes are a programming error here: the domain cannot tell which clock they mean."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {instant!r}")
    return instant


def _offset(local: datetime) -> str:
    return local.isoformat()[-6:]
