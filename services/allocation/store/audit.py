"""The allocation service's audit trail (shared/audit.py): one chain per campaign, `campaign:<id>`, with the
draws run on it (dry runs and the publication), written in the draw's transaction."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, select

from services.allocation.store.tables import audit, campaigns
from shared.audit import Actor, AuditEntry, changed_fields, purge_chains, record_entry


def chain_of(campaign_id: UUID | str) -> str:
    return f"campaign:{campaign_id}"


def record_draw(connection: Connection, actor: Actor, action: str, campaign_id: UUID,
                after: Mapping[str, Any], now: datetime) -> AuditEntry:
    """A draw adds a run: its fields, before null."""
    return record_entry(connection, audit, actor, chain=chain_of(campaign_id), action=action,
                        target_type="campaign", target_id=str(campaign_id), changes=changed_fields(None, after),
                        occurred_at=now)


def archived_before(connection: Connection, before: datetime) -> list[UUID]:
    """The campaigns archived before `before`. Allocation learns of the archiving from the campaign's snapshot
    (`status` archived); it counts from when it stored that snapshot, a moment after the archiving, so never earlier
    than the campaigns service does."""
    return list(connection.execute(select(campaigns.c.campaign_id).where(
        campaigns.c.snapshot["status"].astext == "archived", campaigns.c.updated_at < before)).scalars())


def purge_archived_before(connection: Connection, before: datetime) -> int:
    """Retention: the whole draw chains of campaigns archived before `before`; how many entries went."""
    return purge_chains(connection, audit, [chain_of(campaign_id) for campaign_id in archived_before(connection, before)])
