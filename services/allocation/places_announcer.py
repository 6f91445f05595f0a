"""Announces how many places of each offer are given (`offer.places_given`), for campaigns' public
"places remaining" and its capacity guard.

One loop counts the live places (offered or accepted) of every offer and announces the counts that
changed since the last announcement, with the stored count, in one transaction (outbox). Counting
after the fact, rather than at each of the many places where a place changes (draws, first-come
decisions, answers, expiries, withdrawals, promotions), means no path can forget to announce; the
count is at most one round late. Each offer's announcements carry an increasing revision, so a
consumer that sees an older one after a newer one keeps the newer.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.dialects.postgresql import insert

from services.allocation import events
from shared.worker import PeriodicLoop
from services.allocation.place_store import LIVE
from services.allocation.tables import announced_places, places

# Serialises announcers of several worker replicas (a transaction-scoped advisory lock).
ANNOUNCER_LOCK = 0x6F66_6665  # "offe"


def announce_changed_counts(connection: Connection, now: datetime) -> int:
    """Announce every offer whose given places differ from its last announcement; how many were."""
    if not connection.execute(select(func.pg_try_advisory_xact_lock(ANNOUNCER_LOCK))).scalar():
        return 0  # another replica is announcing
    live = func.count().filter(places.c.state.in_(LIVE))
    counted = select(places.c.offer_id, places.c.campaign_id, live.label("given")) \
        .group_by(places.c.offer_id, places.c.campaign_id).subquery()
    changed = connection.execute(
        select(counted.c.offer_id, counted.c.campaign_id, counted.c.given, announced_places.c.revision)
        .outerjoin(announced_places, announced_places.c.offer_id == counted.c.offer_id)
        .where(announced_places.c.places_given.is_distinct_from(counted.c.given))).all()
    for offer_id, campaign_id, given, revision in changed:
        revision = (revision or 0) + 1
        connection.execute(insert(announced_places).values(
            offer_id=offer_id, campaign_id=campaign_id, places_given=given, revision=revision, counted_at=now)
            .on_conflict_do_update(index_elements=[announced_places.c.offer_id],
                                   set_={"places_given": given, "revision": revision, "counted_at": now}))
        events.publish(connection, events.places_given(campaign_id, offer_id, given, revision, now), key=campaign_id)
    return len(changed)


class PlacesAnnouncer(PeriodicLoop):
    def __init__(self, engine: Engine, clock: Callable[[], datetime], interval_seconds: float = 2.0):
        super().__init__(interval_seconds)
        self.engine = engine
        self.clock = clock

    def tick(self) -> None:
        with self.engine.begin() as connection:
            announce_changed_counts(connection, self.clock())
