"""The counts of given places last announced per offer (`offer.places_given`), and the live counts
they are compared with."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert

from services.allocation.store.places import LIVE
from services.allocation.store.tables import announced_places, places

# Serialises announcers of several worker replicas (a transaction-scoped advisory lock).
ANNOUNCER_LOCK = 0x6F66_6665  # "offe"


def try_lock_announcer(connection: Connection) -> bool:
    """False when another replica is announcing (until its transaction ends)."""
    return bool(connection.execute(select(func.pg_try_advisory_xact_lock(ANNOUNCER_LOCK))).scalar())


def changed_place_counts(connection: Connection) -> list:
    """(offer_id, campaign_id, places given now, last revision announced or None) of every offer whose
    live places (offered or accepted) differ from its last announcement."""
    live = func.count().filter(places.c.state.in_(LIVE))
    counted = select(places.c.offer_id, places.c.campaign_id, live.label("given")) \
        .group_by(places.c.offer_id, places.c.campaign_id).subquery()
    return connection.execute(
        select(counted.c.offer_id, counted.c.campaign_id, counted.c.given, announced_places.c.revision)
        .outerjoin(announced_places, announced_places.c.offer_id == counted.c.offer_id)
        .where(announced_places.c.places_given.is_distinct_from(counted.c.given))).all()


def save_announced_count(connection: Connection, offer_id: UUID, campaign_id: UUID, given: int, revision: int,
                         now: datetime) -> None:
    connection.execute(insert(announced_places).values(
        offer_id=offer_id, campaign_id=campaign_id, places_given=given, revision=revision, counted_at=now)
        .on_conflict_do_update(index_elements=[announced_places.c.offer_id],
                               set_={"places_given": given, "revision": revision, "counted_at": now}))
