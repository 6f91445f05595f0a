"""The campaigns service's audit trail (shared/audit.py): one chain per campaign, `campaign:<id>`, each entry
the fields a write changed, before → after, written in the write's transaction."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from services.campaigns.domain import Campaign
from services.campaigns.store.tables import audit, campaigns
from shared.audit import Actor, AuditEntry, changed_fields, purge_chains, read_entries, record_entry

TARGET_TYPE = "campaign"


def chain_of(campaign_id: str) -> str:
    return f"campaign:{campaign_id}"


def audited_values(campaign: Campaign | None) -> dict[str, Any] | None:
    """A campaign as the trail compares it: its fields, its offers keyed by id (a capacity changed reads
    `offers.<id>.capacity`)."""
    if campaign is None:
        return None
    values = asdict(campaign)
    values["offers"] = {offer.pop("id"): offer for offer in values["offers"]}
    return values


def record_campaign_change(connection: Connection, actor: Actor, action: str, campaign_id: str,
                           before: Campaign | None, after: Campaign | None, now: datetime) -> AuditEntry:
    return record_entry(connection, audit, actor, chain=chain_of(campaign_id), action=action,
                        target_type=TARGET_TYPE, target_id=campaign_id,
                        changes=changed_fields(audited_values(before), audited_values(after)), occurred_at=now)


def campaign_entries(connection: Connection, campaign_id: str, *, since: datetime | None = None,
                     until: datetime | None = None, actor: str | None = None) -> list[AuditEntry]:
    return read_entries(connection, audit, chain_of(campaign_id), since=since, until=until, actor=actor)


def purge_archived_before(connection: Connection, before: datetime) -> int:
    """Retention: the whole chains of campaigns archived before `before`; how many entries went."""
    archived = connection.execute(select(campaigns.c.id).where(campaigns.c.archived_at < before)).scalars()
    return purge_chains(connection, audit, [chain_of(campaign_id) for campaign_id in archived])
