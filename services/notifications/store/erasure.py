"""Erasure of a family (`family.erased`, docs/privacy.md): every message and delivery of the family (the email
log with its address among them), its subscriptions and closing reminders, offers and the children's names; and the published
events of the outbox that named it; and its audit chain (what managers did to its notifications and letters),
whole. Redelivered, it finds nothing more to erase."""
from __future__ import annotations

from sqlalchemy import Connection, delete, select

from services.notifications.store.audit import erase_family_chain
from services.notifications.store.tables import (
    applications,
    closed_offers,
    closing_reminders,
    deliveries,
    notifications,
    open_offers,
    outbox,
    subscriptions,
)


def erase_family(connection: Connection, family_account: str) -> None:
    connection.execute(delete(deliveries).where(deliveries.c.family_account == family_account))
    connection.execute(delete(deliveries).where(deliveries.c.notification_id.in_(
        select(notifications.c.notification_id).where(notifications.c.family_account == family_account))))
    connection.execute(delete(notifications).where(notifications.c.family_account == family_account))
    connection.execute(delete(subscriptions).where(subscriptions.c.family_account == family_account))
    connection.execute(delete(closing_reminders).where(closing_reminders.c.family_account == family_account))
    connection.execute(delete(open_offers).where(open_offers.c.family_account == family_account))
    connection.execute(delete(closed_offers).where(closed_offers.c.application_id.in_(
        select(applications.c.application_id).where(applications.c.family_account == family_account))))
    connection.execute(delete(applications).where(applications.c.family_account == family_account))
    connection.execute(delete(outbox).where(outbox.c.published_at.is_not(None),
                                            outbox.c.envelope["data"]["family_account"].astext == family_account))
    erase_family_chain(connection, family_account)
