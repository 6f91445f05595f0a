"""Retention in notifications (docs/privacy.md), and `python -m services.notifications.purge`, run daily.

Messages (the queue and inbox, `notifications`) and what was sent or shown of them (`deliveries`: the email
log with its recipients, inbox copies, letters) go `message_retention` after they were written, unless
still pending (failed ones go too: managers retry failures within days, not a year); the children's names copied from applications go
`application_retention` after their campaign opened, unless a place is still open; and the outbox and inbox.
Idempotent."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, exists, select

from services.notifications.settings import NotificationsSettings
from services.notifications.store.tables import (
    applications,
    campaigns,
    deliveries,
    inbox,
    notifications,
    open_offers,
    outbox,
)
from shared.retention import OUTBOX_KEPT_AFTER_PUBLICATION, command, purge_inbox, purge_outbox, run_purges


@dataclass(frozen=True)
class NotificationsRetention:
    messages: timedelta
    applications: timedelta
    inbox: timedelta


def purge_messages(connection: Connection, now: datetime, kept: timedelta) -> int:
    old = select(notifications.c.notification_id).where(notifications.c.created_at < now - kept,
                                                        notifications.c.status != "pending")
    connection.execute(delete(deliveries).where(deliveries.c.notification_id.in_(old)))
    return connection.execute(delete(notifications).where(notifications.c.notification_id.in_(old))).rowcount


def purge_applications(connection: Connection, now: datetime, kept: timedelta) -> int:
    old = select(campaigns.c.campaign_id).where(campaigns.c.opened_at < now - kept)
    still_open = exists().where(open_offers.c.application_id == applications.c.application_id)
    return connection.execute(delete(applications).where(applications.c.campaign_id.in_(old), ~still_open)).rowcount


def purge(engine: Engine, now: datetime, retention: NotificationsRetention) -> dict[str, int]:
    return run_purges(engine, {
        "messages": lambda c: purge_messages(c, now, retention.messages),
        "applications": lambda c: purge_applications(c, now, retention.applications),
        "outbox": lambda c: purge_outbox(c, outbox, now, OUTBOX_KEPT_AFTER_PUBLICATION),
        "inbox": lambda c: purge_inbox(c, inbox, now, retention.inbox),
    })


def retention(settings: NotificationsSettings) -> NotificationsRetention:
    return NotificationsRetention(messages=settings.message_retention, applications=settings.application_retention,
                                  inbox=settings.inbox_retention)


def main() -> int:
    settings = NotificationsSettings.from_env("notifications-purge")
    return command(settings, lambda engine, now: purge(engine, now, retention(settings)))


if __name__ == "__main__":
    sys.exit(main())
