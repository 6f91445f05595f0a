"""The tranche a billing line is priced at, once agents validate quotient tranches (issue 16).

A line belongs to the invoice of its period's first month (docs/billing-feed.md). A validated tranche
applies to the lines of months from its effective date's month: a line of an earlier month keeps the
tranche it was billed at. Of several validations, the one with the latest effective date that has
begun by the line's month applies (the latest validated first, for the same effective date; the highest
tranche if two were validated at the very same instant, so that the order they are read in never matters).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from shared.domain.policy import HIGHEST_TRANCHE, LOWEST_TRANCHE


@dataclass(frozen=True)
class ValidatedTranche:
    tranche: int
    effective_from: date
    validated_at: datetime

    def __post_init__(self):
        if not LOWEST_TRANCHE <= self.tranche <= HIGHEST_TRANCHE:
            raise ValueError(f"quotient tranche {self.tranche} is not within 1..10")

    @property
    def first_month(self) -> date:
        return month_of(self.effective_from)


def month_of(day: date) -> date:
    return day.replace(day=1)


def billed_tranche(declared: int | None, period_start: date, validations: Iterable[ValidatedTranche]) -> int:
    """The tranche of a line whose period starts on `period_start`: the validated one in force in its
    month, else the one declared (none on file: tranche 10)."""
    month = month_of(period_start)
    in_force = [v for v in validations if v.first_month <= month]
    if in_force:
        return max(in_force, key=lambda v: (v.effective_from, v.validated_at, v.tranche)).tranche
    return HIGHEST_TRANCHE if declared is None else declared


def unit_price(tariffs_cents: list[int] | tuple[int, ...], tranche: int) -> int:
    """The offer's grid at `tranche` (1–10)."""
    return tariffs_cents[tranche - 1]
