"""Read a campaign's audit trail (docs/audit.md): its entries in chain order, by time range and actor."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from services.campaigns.store.audit import campaign_entries
from services.campaigns.usecases.writing import existing
from shared.audit import AuditEntry


def campaign_audit(engine: Engine, campaign_id: str, *, since: datetime | None = None,
                   until: datetime | None = None, actor: str | None = None) -> list[AuditEntry]:
    """CampaignNotFound for a campaign that does not exist."""
    with engine.connect() as connection:
        existing(connection, campaign_id)
        return campaign_entries(connection, campaign_id, since=since, until=until, actor=actor)
