"""Places and waitlist entries in PostgreSQL. Call these under the campaign's lock (repository.lock_campaign)."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, and_, exists, func, select

from services.allocation.store.campaign_copy import CampaignCopy
from services.allocation.store.tables import applications, places, waitlist_entries

LIVE = ("offered", "accepted")


def place_row(campaign: CampaignCopy, application_id: UUID | str, offer_id: UUID | str, tier: int | None,
              now: datetime, freed_by: UUID | None = None) -> dict[str, Any]:
    """A place offered now, to accept before the campaign's deadline: the row `save_places` writes."""
    return dict(application_id=application_id, campaign_id=campaign.campaign_id, offer_id=offer_id, state="offered",
                tier=tier, offered_at=now, expires_at=campaign.acceptance_deadline(now, offer_id),
                freed_by_application_id=freed_by)


def save_places(connection: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(places.insert(), rows)


def seats_taken(connection: Connection, offer_id: UUID) -> int:
    return connection.execute(select(func.count()).select_from(places)
                              .where(places.c.offer_id == offer_id, places.c.state.in_(LIVE))).scalar_one()


def live_place(connection: Connection, application_id: UUID):
    return connection.execute(select(places).where(places.c.application_id == application_id,
                                                   places.c.state.in_(LIVE))).first()


def end_place(connection: Connection, place_id: int, state: str, at: datetime) -> None:
    connection.execute(places.update().where(places.c.place_id == place_id).values(state=state, settled_at=at))


def offers_past_deadline(connection: Connection, before: datetime, limit: int) -> list:
    """Offered places whose deadline is before `before`: (place_id, campaign_id), oldest first."""
    return connection.execute(select(places.c.place_id, places.c.campaign_id)
                              .where(places.c.state == "offered", places.c.expires_at < before)
                              .order_by(places.c.expires_at).limit(limit)).all()


def place_by_id(connection: Connection, place_id: int):
    return connection.execute(select(places).where(places.c.place_id == place_id)).first()


def last_arrival_rank_placed(connection: Connection, offer_id: UUID) -> int | None:
    """The latest arrival given a place at this offer so far: whom a first-come child had to beat."""
    return connection.execute(select(func.max(applications.c.arrival_rank))
                              .join(places, places.c.application_id == applications.c.application_id)
                              .where(places.c.offer_id == offer_id)).scalar_one()


def waitlist_tail(connection: Connection, offer_id: UUID) -> tuple[int, int]:
    """(children still waiting, last position given): the room left, and where a newcomer goes."""
    waiting, last = connection.execute(
        select(func.count().filter(waitlist_entries.c.state == "waiting"), func.max(waitlist_entries.c.position))
        .where(waitlist_entries.c.offer_id == offer_id)).one()
    return waiting, last or 0


def waiting_candidates(connection: Connection, offer_id: UUID) -> list:
    """Entries still waiting at this offer whose application is active and holds no place, in line order."""
    holds_place = exists().where(and_(places.c.application_id == waitlist_entries.c.application_id,
                                      places.c.state.in_(LIVE)))
    return connection.execute(
        select(waitlist_entries.c.application_id, waitlist_entries.c.group_key)
        .join(applications, applications.c.application_id == waitlist_entries.c.application_id)
        .where(waitlist_entries.c.offer_id == offer_id, waitlist_entries.c.state == "waiting",
               applications.c.withdrawn_at.is_(None), ~holds_place)
        .order_by(waitlist_entries.c.position)).all()


def mark_promoted(connection: Connection, offer_id: UUID, application_id: UUID) -> None:
    connection.execute(waitlist_entries.update().where(waitlist_entries.c.offer_id == offer_id,
                                                       waitlist_entries.c.application_id == application_id)
                       .values(state="promoted"))


def leave_waitlists(connection: Connection, application_id: UUID) -> None:
    """The application is done with the campaign (accepted, declined, expired, withdrawn)."""
    connection.execute(waitlist_entries.update().where(waitlist_entries.c.application_id == application_id,
                                                       waitlist_entries.c.state == "waiting").values(state="left"))


def place_counts(connection: Connection, campaign_id: UUID) -> list:
    """(tier, state, places) for the campaign: acceptance per priority tier."""
    return connection.execute(select(places.c.tier, places.c.state, func.count())
                              .where(places.c.campaign_id == campaign_id)
                              .group_by(places.c.tier, places.c.state).order_by(places.c.tier)).all()


def latest_place(connection: Connection, application_id: UUID):
    return connection.execute(select(places).where(places.c.application_id == application_id)
                              .order_by(places.c.place_id.desc()).limit(1)).first()
