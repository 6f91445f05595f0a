"""What retention deletes in notifications (docs/privacy.md), run by `python -m services.notifications.purge`."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, exists, select

from services.notifications.store.tables import applications, campaigns, deliveries, notifications, open_offers


def purge_messages(connection: Connection, now: datetime, kept: timedelta) -> int:
    """Messages and their deliveries written more than `kept` ago, unless still pending (failed ones go too)."""
    old = select(notifications.c.notification_id).where(notifications.c.created_at < now - kept,
                                                        notifications.c.status != "pending")
    connection.execute(delete(deliveries).where(deliveries.c.notification_id.in_(old)))
    return connection.execute(delete(notifications).where(notifications.c.notification_id.in_(old))).rowcount


def purge_applications(connection: Connection, now: datetime, kept: timedelta) -> int:
    """The children's names of campaigns opened more than `kept` ago, unless a place is still open."""
    old = select(campaigns.c.campaign_id).where(campaigns.c.opened_at < now - kept)
    still_open = exists().where(open_offers.c.application_id == applications.c.application_id)
    return connection.execute(delete(applications).where(applications.c.campaign_id.in_(old), ~still_open)).rowcount
