"""Parents who asked to be told when a campaign opens."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, DateTime, RowMapping, cast, delete, select
from sqlalchemy.dialects.postgresql import insert

from services.notifications.store.tables import campaigns, subscriptions

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
