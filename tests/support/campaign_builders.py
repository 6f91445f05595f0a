"""Valid campaigns and offers for tests; each test overrides only what it is about."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from services.campaigns.domain import (
    AllocationMode,
    AllocationPolicy,
    Campaign,
    Offer,
    parse_paris_datetime,
)

# Window of the default campaign: 2 February 00:01 to 27 February 23:59, Paris (UTC+1 in winter).
OPENS_AT = datetime(2026, 2, 1, 23, 1, tzinfo=UTC)
CLOSES_AT = datetime(2026, 2, 27, 22, 59, tzinfo=UTC)
BEFORE_OPENING = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
WHILE_OPEN = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
AFTER_CLOSE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
GRID = (100, 200, 300, 400, 500, 600, 700, 800, 900, 1000)


def paris(local: str) -> datetime:
    return parse_paris_datetime(local, "test")


def an_offer(**overrides: object) -> Offer:
    defaults = dict(
        id="offer-1", title="Multisport", site="Gymnase Jean Dame", arrondissement=2,
        starts_on=date(2026, 3, 2), ends_on=date(2026, 3, 6), min_age=7, max_age=10,
        capacity=24, waitlist_limit=10, tariffs_cents=GRID,
    )
    return Offer(**{**defaults, **overrides})


def a_campaign(**overrides: object) -> Campaign:
    """A valid draft sport_vacances campaign with one offer."""
    defaults = dict(
        id="campaign-1", title="Paris Sport Vacances — hiver 2026", kind="sport_vacances", description="",
        opens_at=OPENS_AT, closes_at=CLOSES_AT, reference_date=date(2026, 3, 2), max_choices=3,
        policy=AllocationPolicy(AllocationMode.LOTTERY), offers=(an_offer(),),
    )
    return Campaign(**{**defaults, **overrides})


def a_published_campaign(**overrides: object) -> Campaign:
    return replace(a_campaign(**overrides), published_at=BEFORE_OPENING)
