"""Retention in campaigns (docs/privacy.md): campaigns hold no family's data; the outbox (published
events), the inbox (processed event ids) and the audit trails of campaigns archived long ago are purged.
Idempotent."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from services.campaigns.store.audit import purge_archived_before
from services.campaigns.store.tables import inbox, outbox
from shared.retention import OUTBOX_KEPT_AFTER_PUBLICATION, purge_inbox, purge_outbox, run_purges


def purge(engine: Engine, now: datetime, inbox_kept: timedelta, audit_kept: timedelta | None = None) -> dict[str, int]:
    return run_purges(engine, {
        "outbox": lambda c: purge_outbox(c, outbox, now, OUTBOX_KEPT_AFTER_PUBLICATION),
        "inbox": lambda c: purge_inbox(c, inbox, now, inbox_kept),
        **({} if audit_kept is None else {"audit": lambda c: purge_archived_before(c, now - audit_kept)}),
    })
