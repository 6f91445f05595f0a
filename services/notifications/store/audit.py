"""The notifications service's audit trail (shared/audit.py): one chain per family, `family:<account>`, each entry
what a manager did to the family's notifications and letters (a failed notification retried, a letter printed),
before → after, written in the change's transaction. It goes with the family's data (erasure) or, untouched for
the retention period, whole (purge)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from services.notifications.store.tables import audit
from shared.audit import Actor, AuditEntry, chains_idle_since, changed_fields, purge_chains, read_entries, record_entry


def chain_of(family_account: str) -> str:
    return f"family:{family_account}"


def record_family_change(connection: Connection, actor: Actor, family_account: str, action: str, target_type: str,
                         target_id: str, before: Mapping[str, Any], after: Mapping[str, Any],
                         now: datetime) -> AuditEntry:
    return record_entry(connection, audit, actor, chain=chain_of(family_account), action=action,
                        target_type=target_type, target_id=str(target_id), changes=changed_fields(before, after),
                        occurred_at=now)


def family_entries(connection: Connection, family_account: str, *, since: datetime | None = None,
                   until: datetime | None = None, actor: str | None = None) -> list[AuditEntry]:
    return read_entries(connection, audit, chain_of(family_account), since=since, until=until, actor=actor)


def erase_family_chain(connection: Connection, family_account: str) -> int:
    return purge_chains(connection, audit, [chain_of(family_account)])


def purge_idle_chains(connection: Connection, before: datetime) -> int:
    """Retention: the whole chains of families no manager acted for since `before`; how many entries went."""
    return purge_chains(connection, audit, chains_idle_since(connection, audit, before))
