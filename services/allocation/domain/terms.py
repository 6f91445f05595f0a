"""The campaign's terms after the draw (docs/campaigns.md#lifecycle), as allocation applies them:
an offered place's deadline is capped before its activity starts, waitlists stop promoting at a
date, and a confirmed place given up is credited by the campaign's cancellation rule.

Plain Python: the instants are aware, days are Paris calendar days (shared.domain.paris)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from shared.domain.paris import PARIS, paris_day


def activity_start(starts_on: date) -> datetime:
    """Midnight, Paris, of the activity's first day (UTC)."""
    return datetime(starts_on.year, starts_on.month, starts_on.day, tzinfo=PARIS).astimezone(UTC)


def acceptance_cutoff(starts_on: date, margin_hours: int) -> datetime:
    """The latest deadline a place of this activity may have."""
    return activity_start(starts_on) - timedelta(hours=margin_hours)


def acceptance_deadline(offered_at: datetime, delay_hours: int, starts_on: date, margin_hours: int) -> datetime:
    """The family's delay in real hours, capped `margin_hours` before the activity starts."""
    return min(offered_at + timedelta(hours=delay_hours), acceptance_cutoff(starts_on, margin_hours))


def promotion_open(now: datetime, starts_on: date, margin_hours: int, waitlist_closes_at: datetime | None) -> bool:
    """A freed place goes to the waitlist only before the campaign's waitlist close and before the
    offer's acceptance cut-off (after it, nobody would have time to accept)."""
    if waitlist_closes_at is not None and now >= waitlist_closes_at:
        return False
    return now < acceptance_cutoff(starts_on, margin_hours)


@dataclass(frozen=True)
class Credit:
    """What a withdrawal of a confirmed place gives back, per unit."""
    credited_cents: int  # the credit line's unit price
    fee_cents: int  # what the family still pays
    rule: str  # free, late_fee, late_no_credit, after_the_activity, agent_exception


def withdrawal_credit(price_cents: int, at: datetime, starts_on: date, ends_on: date,
                      free_until: datetime | None, late_fee_cents: int | None, *,
                      waived_by_agent: bool = False) -> Credit:
    """Full credit until `free_until` (None: until the activity starts); then the price less the late fee,
    or nothing when the campaign has no fee (`late_fee_cents` None). Registrations refuses a withdrawal
    once the activity has ended; one that arrives anyway is credited nothing. An agent may waive what a late
    withdrawal would keep (the agents' one exception, with a reason): then the whole price, `agent_exception`."""
    if paris_day(at) > ends_on:
        return Credit(0, price_cents, "after_the_activity")
    if at < (activity_start(starts_on) if free_until is None else free_until):
        return Credit(price_cents, 0, "free")
    if waived_by_agent:
        return Credit(price_cents, 0, "agent_exception")
    if late_fee_cents is None:
        return Credit(0, price_cents, "late_no_credit")
    fee = min(late_fee_cents, price_cents)
    return Credit(price_cents - fee, fee, "late_fee")
