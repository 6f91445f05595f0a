"""Notifications and their deliveries in PostgreSQL: queued once, claimed by one courier at a time,
delivered once per channel, retried with backoff, and set aside as failed after the last attempt."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, RowMapping, and_, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert

from services.notifications.domain.messages import Message
from services.notifications.store.tables import deliveries, notifications, subscriptions
from shared.kafka import RetryPolicy


@dataclass(frozen=True)
class Queued:
    """A notification a courier claimed: what to say, to whom, and how many attempts it already had."""
    notification_id: UUID
    family_account: str
    kind: str
    data: dict[str, Any]
    attempts: int


def queue(connection: Connection, *, dedup_key: str, family_account: str, kind: str, data: dict[str, Any],
          now: datetime, cause_event_id: str | None = None) -> bool:
    """Queue a notification once per `dedup_key`; False when it was already queued."""
    inserted = connection.execute(insert(notifications).values(
        notification_id=uuid.uuid4(), dedup_key=dedup_key, family_account=family_account, kind=kind, data=data,
        cause_event_id=cause_event_id, next_attempt_at=now, created_at=now, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["dedup_key"]).returning(notifications.c.notification_id)).first()
    return inserted is not None


def queue_for_subscribers(connection: Connection, campaign_id: str, event_id: str, data: dict[str, Any],
                          now: datetime) -> int:
    """One `campaign_opened` notification per family subscribed to the campaign, once per event."""
    subscribers = select(
        func.gen_random_uuid(), literal(event_id + "/") + subscriptions.c.family_account, subscriptions.c.family_account,
        literal("campaign_opened"), literal(data, notifications.c.data.type), literal(event_id),
        literal(now), literal(now), literal(now),
    ).where(subscriptions.c.campaign_id == campaign_id)
    result = connection.execute(
        insert(notifications).from_select(
            ["notification_id", "dedup_key", "family_account", "kind", "data", "cause_event_id", "next_attempt_at",
             "created_at", "updated_at"], subscribers)
        .on_conflict_do_nothing(index_elements=["dedup_key"]).returning(notifications.c.notification_id))
    return len(result.all())


def claim_due(connection: Connection, now: datetime, lease: timedelta, limit: int) -> list[Queued]:
    """Take up to `limit` due notifications for `lease`: other couriers skip them meanwhile, and they
    come due again by themselves if this courier dies before recording the outcome."""
    due = (select(notifications.c.notification_id)
           .where(notifications.c.status == "pending", notifications.c.next_attempt_at <= now)
           .order_by(notifications.c.position).limit(limit).with_for_update(skip_locked=True))
    rows = connection.execute(
        update(notifications).where(notifications.c.notification_id.in_(due.scalar_subquery()))
        .values(next_attempt_at=now + lease)
        .returning(notifications.c.notification_id, notifications.c.family_account, notifications.c.kind,
                   notifications.c.data, notifications.c.attempts, notifications.c.position)).all()
    # RETURNING keeps no order: queue order is restored here.
    return [Queued(row.notification_id, row.family_account, row.kind, row.data, row.attempts)
            for row in sorted(rows, key=lambda row: row.position)]


def record_delivery(connection: Connection, queued: Queued, channel: str, language: str, message: Message,
                    now: datetime, recipient: str | None = None) -> RowMapping:
    """The notification's delivery on `channel`, created once; an email not yet sent takes the latest
    address and wording (a corrected address is used on the next attempt). Returns the stored row."""
    content = dict(language=language, subject=message.subject, body=message.body, link=message.link,
                   recipient=recipient)
    statement = insert(deliveries).values(delivery_id=uuid.uuid4(), notification_id=queued.notification_id,
                                          channel=channel, family_account=queued.family_account, created_at=now,
                                          **content)
    if channel == "email":
        statement = statement.on_conflict_do_update(
            constraint="uq_deliveries_notification_channel", set_=content, where=deliveries.c.sent_at.is_(None))
    else:
        statement = statement.on_conflict_do_nothing(constraint="uq_deliveries_notification_channel")
    connection.execute(statement)
    return connection.execute(select(deliveries).where(deliveries.c.notification_id == queued.notification_id,
                                                       deliveries.c.channel == channel)).mappings().one()


def mark_sent(connection: Connection, delivery_id: UUID, now: datetime) -> None:
    connection.execute(update(deliveries).where(deliveries.c.delivery_id == delivery_id).values(sent_at=now))


def mark_delivered(connection: Connection, notification_id: UUID, now: datetime) -> bool:
    """False when it already was delivered (a second courier whose lease ran out got there first)."""
    return connection.execute(update(notifications).where(notifications.c.notification_id == notification_id,
                                                          notifications.c.status != "delivered")
                              .values(status="delivered", last_error=None, updated_at=now)).rowcount > 0


def record_failure(connection: Connection, queued: Queued, error: str, now: datetime, retry: RetryPolicy) -> bool:
    """Count a failed attempt: due again after the policy's backoff, or failed for good after its last
    attempt (then a manager sees it). True when it failed for good."""
    attempts = queued.attempts + 1
    gave_up = attempts >= retry.max_attempts
    next_attempt_at = now if gave_up else now + timedelta(seconds=retry.backoff(attempts))
    connection.execute(update(notifications).where(notifications.c.notification_id == queued.notification_id)
                       .values(attempts=attempts, last_error=error[:2000], updated_at=now,
                               status="failed" if gave_up else "pending", next_attempt_at=next_attempt_at))
    return gave_up


def failures(connection: Connection) -> list[RowMapping]:
    """Notifications given up on, most recent first, with the channels that did get through."""
    delivered_channels = (select(func.array_agg(deliveries.c.channel))
                          .where(deliveries.c.notification_id == notifications.c.notification_id,
                                 (deliveries.c.channel != "email") | deliveries.c.sent_at.is_not(None))
                          .scalar_subquery())
    return connection.execute(
        select(notifications.c.notification_id, notifications.c.family_account, notifications.c.kind,
               notifications.c.cause_event_id, notifications.c.attempts, notifications.c.last_error,
               notifications.c.created_at, notifications.c.updated_at.label("failed_at"),
               delivered_channels.label("delivered_channels"))
        .where(notifications.c.status == "failed").order_by(notifications.c.updated_at.desc())).mappings().all()


def retry_failed(connection: Connection, notification_id: UUID, now: datetime) -> RowMapping | None:
    """A manager's retry: the failed notification is due now with a fresh series of attempts. Returns its family,
    status and attempts as they were (the audit trail's "before"); None when no failed notification has this id."""
    failed = connection.execute(
        select(notifications.c.family_account, notifications.c.status, notifications.c.attempts)
        .where(and_(notifications.c.notification_id == notification_id, notifications.c.status == "failed"))
        .with_for_update()).mappings().first()
    if failed is not None:
        connection.execute(update(notifications).where(notifications.c.notification_id == notification_id)
                           .values(status="pending", attempts=0, next_attempt_at=now, updated_at=now))
    return failed
