"""Reading deliveries: a family's in-app inbox, and the mail room's queue of letters to print."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, RowMapping, func, select, update

from services.notifications.store.tables import deliveries, notifications

_WITH_NOTIFICATION = deliveries.join(notifications, notifications.c.notification_id == deliveries.c.notification_id)


def _inbox(family_account: str):
    return (select(deliveries.c.delivery_id.label("message_id"), notifications.c.kind, deliveries.c.language,
                   deliveries.c.subject, deliveries.c.body, deliveries.c.link, deliveries.c.created_at,
                   deliveries.c.read_at)
            .select_from(_WITH_NOTIFICATION)
            .where(deliveries.c.channel == "inbox", deliveries.c.family_account == family_account))


def inbox_messages(connection: Connection, family_account: str, unread_only: bool) -> list[RowMapping]:
    """The family's messages, newest first."""
    query = _inbox(family_account).order_by(notifications.c.position.desc())
    if unread_only:
        query = query.where(deliveries.c.read_at.is_(None))
    return connection.execute(query).mappings().all()


def mark_read(connection: Connection, family_account: str, message_id: UUID, now: datetime) -> RowMapping | None:
    """Mark one of the family's messages read (a second reading keeps the first time); None when the
    family has no such message, whoever else may have one."""
    marked = connection.execute(
        update(deliveries)
        .where(deliveries.c.delivery_id == message_id, deliveries.c.channel == "inbox",
               deliveries.c.family_account == family_account)
        .values(read_at=func.coalesce(deliveries.c.read_at, now))
        .returning(deliveries.c.delivery_id)).first()
    if marked is None:
        return None
    return connection.execute(_inbox(family_account).where(deliveries.c.delivery_id == message_id)).mappings().one()


def letters(connection: Connection, printed: bool) -> list[RowMapping]:
    """Letters to print (oldest first, the order they should go out in), or the printed ones."""
    query = (select(deliveries.c.delivery_id.label("letter_id"), deliveries.c.family_account, deliveries.c.language,
                    deliveries.c.recipient.label("postal_address"), deliveries.c.subject, deliveries.c.body,
                    deliveries.c.created_at, deliveries.c.printed_at)
             .select_from(_WITH_NOTIFICATION)
             .where(deliveries.c.channel == "letter",
                    deliveries.c.printed_at.is_not(None) if printed else deliveries.c.printed_at.is_(None))
             .order_by(notifications.c.position))
    return connection.execute(query).mappings().all()


def printed_at(connection: Connection, letter_id: UUID) -> RowMapping | None:
    """The letter's family and when it was printed (null while queued), locked until the transaction ends so
    that two clerks marking it at once agree on who printed it first; None when no letter has this id."""
    return connection.execute(
        select(deliveries.c.family_account, deliveries.c.printed_at)
        .where(deliveries.c.delivery_id == letter_id, deliveries.c.channel == "letter")
        .with_for_update()).mappings().first()


def mark_printed(connection: Connection, letter_id: UUID, now: datetime) -> RowMapping | None:
    return connection.execute(
        update(deliveries).where(deliveries.c.delivery_id == letter_id, deliveries.c.channel == "letter")
        .values(printed_at=func.coalesce(deliveries.c.printed_at, now))
        .returning(deliveries.c.delivery_id.label("letter_id"), deliveries.c.family_account, deliveries.c.language,
                   deliveries.c.recipient.label("postal_address"), deliveries.c.subject, deliveries.c.body, deliveries.c.created_at,
                   deliveries.c.printed_at)).mappings().first()
