"""Parents who asked to be told when a campaign opens, and those who asked to be reminded before it closes."""
from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import Connection, DateTime, RowMapping, cast, delete, select, update
from sqlalchemy.dialects.postgresql import insert

from services.notifications.store.tables import campaigns, closing_reminders, subscriptions

_WITH_CAMPAIGN = subscriptions.join(campaigns, campaigns.c.campaign_id == subscriptions.c.campaign_id)


def _views(family_account: str):
    return (select(subscriptions.c.campaign_id, campaigns.c.snapshot["title"].astext.label("campaign_title"),
                   cast(campaigns.c.snapshot["opens_at"].astext, DateTime(timezone=True)).label("opens_at"),
                   subscriptions.c.subscribed_at)
            .select_from(_WITH_CAMPAIGN).where(subscriptions.c.family_account == family_account))


def family_subscriptions(connection: Connection, family_account: str) -> list[RowMapping]:
    return connection.execute(_views(family_account).order_by(subscriptions.c.subscribed_at)).mappings().all()


def subscribe(connection: Connection, family_account: str, campaign_id: UUID, now: datetime) -> RowMapping:
    """Subscribe once; subscribing again keeps the first subscription."""
    connection.execute(insert(subscriptions).values(family_account=family_account, campaign_id=campaign_id,
                                                    subscribed_at=now).on_conflict_do_nothing())
    return connection.execute(_views(family_account)
                              .where(subscriptions.c.campaign_id == campaign_id)).mappings().one()


def unsubscribe(connection: Connection, family_account: str, campaign_id: UUID) -> bool:
    removed = connection.execute(delete(subscriptions).where(subscriptions.c.family_account == family_account,
                                                             subscriptions.c.campaign_id == campaign_id)
                                 .returning(subscriptions.c.campaign_id)).first()
    return removed is not None


_CLOSES_AT = cast(campaigns.c.snapshot["closes_at"].astext, DateTime(timezone=True))
_REMINDERS_WITH_CAMPAIGN = closing_reminders.join(campaigns,
                                                  campaigns.c.campaign_id == closing_reminders.c.campaign_id)


def _closing_views(family_account: str):
    return (select(closing_reminders.c.campaign_id, campaigns.c.snapshot["title"].astext.label("campaign_title"),
                   _CLOSES_AT.label("closes_at"), closing_reminders.c.subscribed_at,
                   closing_reminders.c.reminded_for)
            .select_from(_REMINDERS_WITH_CAMPAIGN).where(closing_reminders.c.family_account == family_account))


def family_closing_reminders(connection: Connection, family_account: str) -> list[RowMapping]:
    return connection.execute(_closing_views(family_account).order_by(closing_reminders.c.subscribed_at)
                              ).mappings().all()


def ask_closing_reminder(connection: Connection, family_account: str, campaign_id: UUID, now: datetime) -> RowMapping:
    """Ask once; asking again keeps the first request (and whether it was already reminded)."""
    connection.execute(insert(closing_reminders).values(family_account=family_account, campaign_id=campaign_id,
                                                        subscribed_at=now).on_conflict_do_nothing())
    return connection.execute(_closing_views(family_account)
                              .where(closing_reminders.c.campaign_id == campaign_id)).mappings().one()


def cancel_closing_reminder(connection: Connection, family_account: str, campaign_id: UUID) -> bool:
    removed = connection.execute(delete(closing_reminders)
                                 .where(closing_reminders.c.family_account == family_account,
                                        closing_reminders.c.campaign_id == campaign_id)
                                 .returning(closing_reminders.c.campaign_id)).first()
    return removed is not None


def due_closing_reminders(connection: Connection, now: datetime, ahead: timedelta, limit: int) -> list[RowMapping]:
    """Requests whose campaign closes within `ahead` and was not reminded of that close yet, locked for the
    caller's transaction (other schedulers skip them)."""
    return connection.execute(
        select(closing_reminders.c.family_account, closing_reminders.c.campaign_id, _CLOSES_AT.label("closes_at"))
        .select_from(_REMINDERS_WITH_CAMPAIGN)
        .where(campaigns.c.closed_at.is_(None), _CLOSES_AT > now, _CLOSES_AT - ahead <= now,
               closing_reminders.c.reminded_for.is_distinct_from(_CLOSES_AT))
        .order_by(_CLOSES_AT).limit(limit).with_for_update(of=closing_reminders, skip_locked=True)).mappings().all()


def mark_reminded(connection: Connection, family_account: str, campaign_id: UUID, closes_at: datetime) -> None:
    connection.execute(update(closing_reminders)
                       .where(closing_reminders.c.family_account == family_account,
                              closing_reminders.c.campaign_id == campaign_id)
                       .values(reminded_for=closes_at))
