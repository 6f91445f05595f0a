"""What a manager's scope (GUICHET_MANAGER_SCOPES, shared.auth) is checked against in notifications: the campaign a
notification (or a letter, one of its deliveries) is about, and that campaign's kind from the latest `campaign.*`
snapshot kept here. A notification about no campaign, or about one notifications has not heard of, has no kind."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Connection, Uuid, cast, select

from services.notifications.store.tables import campaigns, deliveries, notifications


@dataclass(frozen=True)
class CampaignOf:
    campaign_id: str | None
    kind: str | None


_CAMPAIGN = cast(notifications.c.data["campaign_id"].astext, Uuid)
_ABOUT = notifications.outerjoin(campaigns, campaigns.c.campaign_id == _CAMPAIGN)


def notification_campaigns(connection: Connection, notification_ids: Iterable[UUID]) -> dict[UUID, CampaignOf]:
    rows = connection.execute(select(notifications.c.notification_id, notifications.c.data["campaign_id"].astext,
                                     campaigns.c.snapshot["kind"].astext).select_from(_ABOUT)
                              .where(notifications.c.notification_id.in_(list(notification_ids))))
    return {row[0]: CampaignOf(row[1], row[2]) for row in rows}


def letter_campaigns(connection: Connection, letter_ids: Iterable[UUID]) -> dict[UUID, CampaignOf]:
    rows = connection.execute(select(deliveries.c.delivery_id, notifications.c.data["campaign_id"].astext,
                                     campaigns.c.snapshot["kind"].astext)
                              .select_from(deliveries.join(_ABOUT, notifications.c.notification_id
                                                           == deliveries.c.notification_id))
                              .where(deliveries.c.delivery_id.in_(list(letter_ids))))
    return {row[0]: CampaignOf(row[1], row[2]) for row in rows}
