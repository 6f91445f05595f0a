"""Cloning a past campaign into a new season: last winter's into this winter's, as a draft."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta

from services.campaigns.domain.campaign_actions import stored_instant
from services.campaigns.domain.model import Campaign
from services.campaigns.domain.paris_time import shift_paris_wall_clock
from services.campaigns.domain.rules import validate_campaign
from shared.domain.paris import PARIS
from shared.domain.violations import RuleViolation


def new_uuid() -> str:
    return str(uuid.uuid4())


def clone_campaign(
    source: Campaign,
    *,
    shift: timedelta | None = None,
    new_opens_at: datetime | None = None,
    title: str | None = None,
    reference_date: date | None = None,
    new_id: Callable[[], str] = new_uuid,
) -> Campaign:
    """A draft copy with new ids, moved in time by `shift` or so that it opens at `new_opens_at`.

    The window moves on the Paris wall clock (a 00:01 opening stays 00:01 across DST); offer
    dates and the age reference date move by the same number of calendar days as the opening
    date, so a 364-day shift keeps Monday-to-Friday stages on Monday to Friday. A reference
    date fixed by the calendar (31 December) may need `reference_date`.
    """
    if (shift is None) == (new_opens_at is None):
        raise RuleViolation.single(
            "clone.shift_required", "shift",
            "Indiquez soit un décalage, soit la nouvelle date d'ouverture, pas les deux.",
        )
    old_opening = source.opens_at.astimezone(PARIS).replace(tzinfo=None)
    if new_opens_at is not None:
        opens_at = stored_instant(new_opens_at, "new_opens_at")
        wall_shift = opens_at.astimezone(PARIS).replace(tzinfo=None) - old_opening
    else:
        wall_shift = shift
        opens_at = shift_paris_wall_clock(source.opens_at, wall_shift, "opens_at")
    days = (old_opening + wall_shift).date() - old_opening.date()
    return validate_campaign(Campaign(
        id=new_id(),
        title=source.title if title is None else title,
        kind=source.kind,
        description=source.description,
        opens_at=opens_at,
        closes_at=shift_paris_wall_clock(source.closes_at, wall_shift, "closes_at"),
        reference_date=source.reference_date + days if reference_date is None else reference_date,
        max_choices=source.max_choices,
        policy=source.policy,
        offers=tuple(
            replace(offer, id=new_id(), starts_on=offer.starts_on + days, ends_on=offer.ends_on + days)
            for offer in source.offers
        ),
        cloned_from_id=source.id,
        publication_needs_second_manager=source.publication_needs_second_manager,
        waiting_room=source.waiting_room,  # the room as the managers set it (domain/waiting_room.py)
        waiting_room_opens_before_minutes=source.waiting_room_opens_before_minutes,
        waiting_room_admissions_per_minute=source.waiting_room_admissions_per_minute,
    ))
