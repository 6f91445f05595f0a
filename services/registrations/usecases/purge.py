"""Retention in registrations (docs/privacy.md): the ledger of a campaign closed more than
`application_retention` ago, children removed from their household more than `removed_child_retention`
ago (once no application of the ledger names them), a family's audit chain whole once its last entry is older than
`application_retention`, and the outbox and inbox. Idempotent."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, DateTime, Engine, delete, exists, func, select

from services.registrations.store.documents import delete_documents_of_purged_children
from services.registrations.store.tables import (
    application_transitions,
    applications,
    audit,
    campaign_terms,
    children,
    inbox,
    outbox,
)
from shared.audit import chains_idle_since, purge_chains
from shared.retention import OUTBOX_KEPT_AFTER_PUBLICATION, purge_inbox, purge_outbox, run_purges


@dataclass(frozen=True)
class RegistrationsRetention:
    applications: timedelta  # after the campaign's close
    removed_children: timedelta  # after the child was removed from its household
    inbox: timedelta  # processed event ids, kept longer than any topic could deliver one again


def _campaigns_closed_before(instant: datetime):
    closed = func.coalesce(campaign_terms.c.closed_at,
                           campaign_terms.c.snapshot["closes_at"].astext.cast(DateTime(timezone=True)))
    return select(campaign_terms.c.campaign_id).where(closed < instant)


def purge_applications(connection: Connection, now: datetime, kept: timedelta) -> int:
    expired = select(applications.c.application_id).where(
        applications.c.campaign_id.in_(_campaigns_closed_before(now - kept)))
    connection.execute(delete(application_transitions).where(application_transitions.c.application_id.in_(expired)))
    return connection.execute(delete(applications).where(applications.c.application_id.in_(expired))).rowcount


def purge_removed_children(connection: Connection, now: datetime, kept: timedelta) -> int:
    named = exists().where(applications.c.child_id == children.c.child_id)
    return connection.execute(delete(children).where(children.c.removed_at.is_not(None),
                                                     children.c.removed_at < now - kept, ~named)).rowcount


def purge(engine: Engine, now: datetime, retention: RegistrationsRetention) -> dict[str, int]:
    return run_purges(engine, {
        "applications": lambda c: purge_applications(c, now, retention.applications),
        "removed_children": lambda c: purge_removed_children(c, now, retention.removed_children),
        "removed_children_documents": delete_documents_of_purged_children,
        "audit": lambda c: purge_chains(c, audit, chains_idle_since(c, audit, now - retention.applications)),
        "outbox": lambda c: purge_outbox(c, outbox, now, OUTBOX_KEPT_AFTER_PUBLICATION),
        "inbox": lambda c: purge_inbox(c, inbox, now, retention.inbox),
    })
