"""Retention in allocation (docs/privacy.md): a campaign closed more than `application_retention` ago loses
its applications, decisions, places and waitlist entries (its published draw, which holds no fact of anyone,
and its lottery secret stay: the draw remains verifiable); the outbox and inbox; and the draws' audit chains and
four-eyes publication requests of campaigns archived long ago. Idempotent."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, func, select

from services.allocation.store.audit import archived_before, purge_archived_before
from services.allocation.store.publication_requests import purge_requests
from services.allocation.store.tables import (
    applications,
    campaigns,
    decisions,
    inbox,
    outbox,
    places,
    waitlist_entries,
)
from shared.retention import OUTBOX_KEPT_AFTER_PUBLICATION, purge_inbox, purge_outbox, run_purges


@dataclass(frozen=True)
class AllocationRetention:
    applications: timedelta  # after the campaign's close
    inbox: timedelta
    audit: timedelta | None = None  # after the campaign's archiving; None: kept


def purge_campaign_records(connection: Connection, now: datetime, kept: timedelta) -> int:
    """The applications (and what was decided for them) of campaigns closed before now - kept."""
    old = select(campaigns.c.campaign_id).where(func.coalesce(campaigns.c.closed_at, campaigns.c.closes_at) < now - kept)
    for table in (waitlist_entries, places, decisions):
        connection.execute(delete(table).where(table.c.campaign_id.in_(old)))
    return connection.execute(delete(applications).where(applications.c.campaign_id.in_(old))).rowcount


def purge(engine: Engine, now: datetime, retention: AllocationRetention) -> dict[str, int]:
    return run_purges(engine, {
        "applications": lambda c: purge_campaign_records(c, now, retention.applications),
        "outbox": lambda c: purge_outbox(c, outbox, now, OUTBOX_KEPT_AFTER_PUBLICATION),
        "inbox": lambda c: purge_inbox(c, inbox, now, retention.inbox),
        **({} if retention.audit is None else {
            "audit": lambda c: purge_archived_before(c, now - retention.audit),
            "publication_requests": lambda c: purge_requests(c, archived_before(c, now - retention.audit))}),
    })
