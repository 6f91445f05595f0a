"""The allocation service's audit trail (shared/audit.py): one chain per campaign, `campaign:<id>`, with the
draws run on it (dry runs and the publication), written in the draw's transaction."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from services.allocation.store.tables import audit
from shared.audit import Actor, AuditEntry, changed_fields, record_entry


def chain_of(campaign_id: UUID | str) -> str:
    return f"campaign:{campaign_id}"


def record_draw(connection: Connection, actor: Actor, action: str, campaign_id: UUID,
                after: Mapping[str, Any], now: datetime) -> AuditEntry:
    """A draw adds a run: its fields, before null."""
    return record_entry(connection, audit, actor, chain=chain_of(campaign_id), action=action,
                        target_type="campaign", target_id=str(campaign_id), changes=changed_fields(None, after),
                        occurred_at=now)
