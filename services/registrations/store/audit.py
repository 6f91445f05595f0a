"""The registrations service's audit trail (shared/audit.py): one chain per family, `family:<account>`, each entry
one write on the family's data (its household, a child, an application), by the family itself, a city agent on its
behalf, a manager, or the ledger worker writing what the family submitted; before → after, written in the change's
transaction (docs/audit.md#registrations). An erasure's entry goes on `family:<pseudonym>`, the chain of the
records it keeps."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from services.registrations.store.tables import audit
from shared.audit import (
    Actor,
    AuditEntry,
    ChainHead,
    PendingEntry,
    changed_fields,
    read_entries,
    record_entries,
)

PARENT_ROLE = "parent"


def chain_of(family_account: str) -> str:
    return f"family:{family_account}"


def family_itself(family_account: str) -> Actor:
    """The family acting on its own data, when no request names it (a use case called outside a view)."""
    return Actor(subject=family_account, role=PARENT_ROLE)


def family_change(actor: Actor, action: str, target_type: str, target_id: str, before: Mapping[str, Any] | None,
                  after: Mapping[str, Any] | None, now: datetime, *, reason: str | None = None,
                  family_account: str | None = None) -> PendingEntry:
    """One entry for the family's chain: the family is `family_account`, else the one the actor acts for, else the
    actor itself (a parent); the changed fields, and the reason an agent gave."""
    changes = changed_fields(before, after)
    if reason is not None:
        if "reason" in changes:
            # The agent's motif is read from changes["reason"] (the family's history, docs/audit.md): a changed
            # field of that name would be overwritten and lost from the chain.
            raise ValueError(f"{action}: a changed field named 'reason' would be hidden by the agent's reason")
        changes["reason"] = {"before": None, "after": reason}
    family = family_account or actor.on_behalf_of or actor.subject
    return PendingEntry(chain_of(family), actor, action, target_type, str(target_id), changes, now)


def record_family_change(connection: Connection, actor: Actor, action: str, target_type: str, target_id: str,
                         before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, now: datetime, *,
                         reason: str | None = None, family_account: str | None = None) -> AuditEntry:
    """One entry on the family's chain, in the caller's transaction (`family_change` says which chain)."""
    return record_entries(connection, audit, [family_change(actor, action, target_type, target_id, before, after, now,
                                                            reason=reason, family_account=family_account)])[0]


def record_family_changes(connection: Connection, entries: Sequence[PendingEntry]) -> list[AuditEntry]:
    """A worker's batch of entries, on as many families' chains, in three statements."""
    return record_entries(connection, audit, entries)


def chain_head(connection: Connection, family_account: str) -> ChainHead | None:
    """The family's chain's last position and hash (None: no entry yet)."""
    row = connection.execute(select(audit.heads.c.seq, audit.heads.c.hash)
                             .where(audit.heads.c.chain == chain_of(family_account))).first()
    return None if row is None else ChainHead(row.seq, row.hash)


def family_entries(connection: Connection, family_account: str, *, since: datetime | None = None,
                   until: datetime | None = None, actor: str | None = None) -> list[AuditEntry]:
    return read_entries(connection, audit, chain_of(family_account), since=since, until=until, actor=actor)


def family_entries_newest_first(connection: Connection, family_account: str, target_types: Sequence[str], *,
                                before_seq: int | None = None, limit: int) -> list[AuditEntry]:
    """The family's entries on these targets, newest first, at most `limit`, those before position `before_seq`
    when given (a page of the family's history)."""
    return read_entries(connection, audit, chain_of(family_account), target_types=target_types, newest_first=True,
                        before_seq=before_seq, limit=limit)
