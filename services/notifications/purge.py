"""Retention in notifications (docs/privacy.md), and `python -m services.notifications.purge`, run daily.

Messages (the queue and inbox, `notifications`) and what was sent or shown of them (`deliveries`: the email
log with its recipients, inbox copies, letters) go `message_retention` after they were written, unless
still pending (failed ones go too: managers retry failures within days, not a year); the children's names copied from applications go
`application_retention` after their campaign opened, unless a place is still open; a family's audit chain (what
managers did to its notifications and letters) goes whole `audit_retention` after its last entry; and the outbox
and inbox. Idempotent."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from services.notifications.settings import NotificationsSettings
from services.notifications.store.audit import purge_idle_chains
from services.notifications.store.retention import purge_applications, purge_messages
from services.notifications.store.tables import inbox, outbox
from shared.retention import OUTBOX_KEPT_AFTER_PUBLICATION, command, purge_inbox, purge_outbox, run_purges


@dataclass(frozen=True)
class NotificationsRetention:
    messages: timedelta
    applications: timedelta
    inbox: timedelta
    audit: timedelta | None = None  # None: the audit chains are not purged in this run


def purge(engine: Engine, now: datetime, retention: NotificationsRetention) -> dict[str, int]:
    audit_kept = retention.audit
    return run_purges(engine, {
        "messages": lambda c: purge_messages(c, now, retention.messages),
        "applications": lambda c: purge_applications(c, now, retention.applications),
        "outbox": lambda c: purge_outbox(c, outbox, now, OUTBOX_KEPT_AFTER_PUBLICATION),
        "inbox": lambda c: purge_inbox(c, inbox, now, retention.inbox),
        **({} if audit_kept is None else {"audit": lambda c: purge_idle_chains(c, now - audit_kept)}),
    })


def retention(settings: NotificationsSettings) -> NotificationsRetention:
    return NotificationsRetention(messages=settings.message_retention, applications=settings.application_retention,
                                  inbox=settings.inbox_retention, audit=settings.audit_retention)


def main() -> int:
    settings = NotificationsSettings.from_env("notifications-purge")
    return command(settings, lambda engine, now: purge(engine, now, retention(settings)))


if __name__ == "__main__":
    sys.exit(main())
