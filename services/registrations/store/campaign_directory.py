"""The campaigns intake knows, kept from `campaign.*` events.

Postgres holds the latest snapshot of each campaign (the durable copy, from which Redis is
refilled); Redis serves every intake process; each process keeps what it read for a second, so
the opening-minute surge costs one Redis read per campaign per second per process.
"""
from __future__ import annotations

import json
import threading
import time
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import redis
from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects.postgresql import insert

from services.registrations.domain.applications import CampaignTerms, OfferTerms
from services.registrations.domain.waiting_room import RoomTerms
from services.registrations.store.tables import campaign_terms
from shared.events import Event

NOT_ACCEPTING = {"closed", "allocated", "archived", "draft"}


def campaign_key(campaign_id: UUID | str) -> str:
    return f"reg:campaign:{campaign_id}"


def terms_from_snapshot(snapshot: dict[str, Any], closed_at: datetime | None = None) -> CampaignTerms:
    closes_at = datetime.fromisoformat(snapshot["closes_at"])
    if closed_at is not None:
        closes_at = min(closes_at, closed_at)
    offers = {
        UUID(o["offer_id"]): OfferTerms(UUID(o["offer_id"]), o["title"], o["min_age"], o["max_age"], o["capacity"],
                                        o["waitlist_limit"])
        for o in snapshot["offers"]
    }
    return CampaignTerms(
        campaign_id=UUID(snapshot["campaign_id"]), version=snapshot["version"], mode=snapshot["policy"]["mode"],
        opens_at=datetime.fromisoformat(snapshot["opens_at"]), closes_at=closes_at,
        reference_date=date.fromisoformat(snapshot["reference_date"]), max_choices=snapshot["max_choices"],
        offers=offers, accepting=snapshot["status"] not in NOT_ACCEPTING and closed_at is None,
        waiting_room=room_terms(snapshot.get("waiting_room")))


def room_terms(room: dict[str, Any] | None) -> RoomTerms | None:
    """The snapshot's `waiting_room` (absent from snapshots published before rooms existed: no room)."""
    if not room:
        return None
    return RoomTerms(enabled=bool(room["enabled"]), opens_before=timedelta(minutes=room["opens_before_minutes"]),
                     admissions_per_minute=int(room["admissions_per_minute"]))


def record_campaign_event(connection: Connection, event: Event) -> None:
    """Keep the newest snapshot; events may arrive twice or late, versions decide."""
    data = event.data
    if event.type in ("campaign.published", "campaign.updated"):
        statement = insert(campaign_terms).values(campaign_id=data["campaign_id"], version=data["version"],
                                                  snapshot=data)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["campaign_id"],
            set_={"version": statement.excluded.version, "snapshot": statement.excluded.snapshot},
            where=campaign_terms.c.version < statement.excluded.version))
    elif event.type == "campaign.closed":
        connection.execute(campaign_terms.update()
                           .where(campaign_terms.c.campaign_id == data["campaign_id"])
                           .values(closed_at=datetime.fromisoformat(data["at"])))


class CampaignDirectory:
    def __init__(self, engine: Engine, client: redis.Redis, local_seconds: float = 1.0):
        self.engine = engine
        self.redis = client
        self.local_seconds = local_seconds
        self._local: dict[UUID, tuple[float, CampaignTerms | None]] = {}
        self._lock = threading.Lock()

    def get(self, campaign_id: UUID) -> CampaignTerms | None:
        now = time.monotonic()
        with self._lock:
            cached = self._local.get(campaign_id)
        if cached and now - cached[0] < self.local_seconds:
            return cached[1]
        terms = self._read(campaign_id)
        with self._lock:
            self._local[campaign_id] = (now, terms)
        return terms

    def _read(self, campaign_id: UUID) -> CampaignTerms | None:
        raw = self.redis.get(campaign_key(campaign_id))
        if raw is None:
            return self.refill(campaign_id)
        document = json.loads(raw)
        return terms_from_snapshot(document["snapshot"], _instant(document["closed_at"]))

    def refill(self, campaign_id: UUID) -> CampaignTerms | None:
        """Copy the durable snapshot into Redis (after a Redis loss, or a campaign never read yet)."""
        with self.engine.connect() as connection:
            row = connection.execute(select(campaign_terms).where(campaign_terms.c.campaign_id == campaign_id)).first()
        if row is None:
            return None
        self.redis.set(campaign_key(campaign_id), json.dumps(
            {"snapshot": row.snapshot, "closed_at": row.closed_at.isoformat() if row.closed_at else None}))
        return terms_from_snapshot(row.snapshot, row.closed_at)

    def forget(self, campaign_id: UUID) -> None:
        """After a campaign event: drop the Redis copy so the next read takes the new snapshot."""
        self.redis.delete(campaign_key(campaign_id))


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def offer_last_day(connection: Connection, campaign_id: UUID, offer_id: UUID | None) -> date | None:
    """The offer's last day, from the campaign's latest snapshot (None when either is unknown)."""
    if offer_id is None:
        return None
    snapshot = connection.execute(select(campaign_terms.c.snapshot)
                                  .where(campaign_terms.c.campaign_id == campaign_id)).scalar_one_or_none()
    offer = next((o for o in (snapshot or {}).get("offers", ()) if o["offer_id"] == str(offer_id)), None)
    return None if offer is None else date.fromisoformat(offer["ends_on"])


def closed_drawn_campaigns(connection: Connection) -> list[tuple[UUID, datetime]]:
    """(campaign id, close) of every campaign decided by a draw whose close `campaign.closed` announced."""
    rows = connection.execute(select(campaign_terms.c.campaign_id, campaign_terms.c.closed_at, campaign_terms.c.snapshot)
                              .where(campaign_terms.c.closed_at.is_not(None))).all()
    return [(row.campaign_id, row.closed_at) for row in rows if row.snapshot["policy"]["mode"] != "fcfs"]
