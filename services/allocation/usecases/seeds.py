"""The lottery secret of a campaign: drawn and committed once, when the campaign opens.

The secret is the seed (revealed at the draw) and the lines key (never published: it turns
application ids into the bundle's pseudonymous lines); what is published at the opening commits to
both (see domain/lottery.py). Campaigns committed before lines keys existed keep a 32-byte seed."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection

from services.allocation.domain import generate_secret, secret_commitment, secret_parts
from services.allocation.store import outbox_events
from services.allocation.store.repository import get_seed, save_seed


def commit_seed(connection: Connection, campaign_id: UUID, now: datetime) -> None:
    """Draw the secret and publish its commitment, once per campaign (the seeds' key makes a second
    attempt change nothing and announce nothing)."""
    secret = generate_secret()
    if save_seed(connection, campaign_id, secret, secret_commitment(secret), now):
        outbox_events.publish(connection, outbox_events.seed_committed(campaign_id, secret_commitment(secret), now),
                              key=campaign_id)


def seed_for_draw(connection: Connection, campaign_id: UUID, now: datetime) -> tuple[bytes, str]:
    """(seed, commitment): the seed the draw reveals. A campaign that opened before this service knew
    of it has none yet: it is committed now, and the draw page shows that the commitment came only
    at the draw."""
    stored = get_seed(connection, campaign_id)
    if stored is None:
        commit_seed(connection, campaign_id, now)
        stored = get_seed(connection, campaign_id)
    return secret_parts(stored.seed)[0], stored.commitment


def lottery_secret(connection: Connection, campaign_id: UUID) -> bytes | None:
    """The whole secret (seed and lines key), for the draw and for a family's or an auditor's lines;
    None when the campaign has none."""
    stored = get_seed(connection, campaign_id)
    return None if stored is None else stored.seed
