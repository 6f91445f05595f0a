"""Offered places not accepted in time: `offer.expired`, and the place goes to the waitlist at once."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from services.allocation.store.places import offers_past_deadline, place_by_id
from services.allocation.store.repository import get_campaign, lock_campaign
from services.allocation.usecases import places


def expire_overdue(engine: Engine, now: datetime, grace: timedelta, batch_size: int = 200) -> int:
    """Expire places whose deadline passed more than `grace` ago; one transaction per place. Returns how many."""
    cutoff = now - grace
    with engine.connect() as connection:
        due = offers_past_deadline(connection, cutoff, batch_size)
    expired = 0
    for place_id, campaign_id in due:
        with engine.begin() as connection:
            lock_campaign(connection, campaign_id)
            place = place_by_id(connection, place_id)
            if place.state != "offered" or place.expires_at >= cutoff:
                continue  # answered meanwhile
            places.expire(connection, get_campaign(connection, campaign_id), place, now)
            expired += 1
    return expired

