"""The lottery seed of a campaign: drawn and committed once, when the campaign opens."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection

from services.allocation.domain import commitment, generate_seed
from services.allocation.store import outbox_events
from services.allocation.store.repository import get_seed, save_seed


def commit_seed(connection: Connection, campaign_id: UUID, now: datetime) -> None:
    """Draw the secret seed and publish its SHA-256, once per campaign (the seeds' key makes a second
    attempt change nothing and announce nothing)."""
    seed = generate_seed()
    if save_seed(connection, campaign_id, seed, commitment(seed), now):
        outbox_events.publish(connection, outbox_events.seed_committed(campaign_id, commitment(seed), now), key=campaign_id)


def seed_for_draw(connection: Connection, campaign_id: UUID, now: datetime) -> tuple[bytes, str]:
    """(seed, commitment). A campaign that opened before this service knew of it has none yet: it is
    committed now, and the draw page shows that the commitment came only at the draw."""
    stored = get_seed(connection, campaign_id)
    if stored is None:
        commit_seed(connection, campaign_id, now)
        stored = get_seed(connection, campaign_id)
    return stored.seed, stored.commitment
