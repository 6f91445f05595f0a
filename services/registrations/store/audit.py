"""The registrations service's audit trail (shared/audit.py): one chain per family, `family:<account>`, each
entry what an agent changed for the family (its household, an application's status), before → after, written in
the change's transaction. Agents read a family's history from it; the family reads its own from the ledger."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from services.registrations.store.tables import audit
from shared.audit import Actor, AuditEntry, changed_fields, read_entries, record_entry


def chain_of(family_account: str) -> str:
    return f"family:{family_account}"


def record_family_change(connection: Connection, actor: Actor, action: str, target_type: str, target_id: str,
                         before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, reason: str,
                         now: datetime) -> AuditEntry:
    """One entry on the family's chain (`actor.on_behalf_of`): the changed fields, and the reason given."""
    changes = {**changed_fields(before, after), "reason": {"before": None, "after": reason}}
    return record_entry(connection, audit, actor, chain=chain_of(str(actor.on_behalf_of)), action=action,
                        target_type=target_type, target_id=str(target_id), changes=changes, occurred_at=now)


def family_entries(connection: Connection, family_account: str, *, since: datetime | None = None,
                   until: datetime | None = None, actor: str | None = None) -> list[AuditEntry]:
    return read_entries(connection, audit, chain_of(family_account), since=since, until=until, actor=actor)
