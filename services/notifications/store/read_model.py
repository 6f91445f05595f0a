"""What notifications keeps from other services' events to write its messages: campaign snapshots,
the child of each application, and the offered places still awaiting an answer."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects.postgresql import insert

from services.notifications.domain.messages import NEEDS_CAMPAIGN, NEEDS_CHILD, Facts
from services.notifications.domain.offers import reminder_time
from services.notifications.store.tables import applications, campaigns, closed_offers, open_offers


def record_campaign(connection: Connection, snapshot: dict[str, Any]) -> None:
    """Keep the newest snapshot: events may arrive twice or late, versions decide."""
    statement = insert(campaigns).values(campaign_id=snapshot["campaign_id"], version=snapshot["version"],
                                         snapshot=snapshot)
    connection.execute(statement.on_conflict_do_update(
        index_elements=["campaign_id"],
        set_={"version": statement.excluded.version, "snapshot": statement.excluded.snapshot},
        where=campaigns.c.version < statement.excluded.version))


def mark_campaign_opened(connection: Connection, campaign_id: str, at: datetime) -> None:
    connection.execute(update(campaigns).where(campaigns.c.campaign_id == campaign_id).values(opened_at=at))


def mark_campaign_closed(connection: Connection, campaign_id: str, at: datetime) -> None:
    connection.execute(update(campaigns).where(campaigns.c.campaign_id == campaign_id).values(closed_at=at))


def campaign(connection: Connection, campaign_id: UUID | str) -> dict[str, Any] | None:
    """The campaign's snapshot with `opened_at` and `closed_at`, or None when it was never published."""
    row = connection.execute(select(campaigns.c.snapshot, campaigns.c.opened_at, campaigns.c.closed_at)
                             .where(campaigns.c.campaign_id == campaign_id)).first()
    return None if row is None else {**row.snapshot, "opened_at": row.opened_at, "closed_at": row.closed_at}


def record_application(connection: Connection, data: dict[str, Any]) -> None:
    connection.execute(insert(applications).values(
        application_id=data["application_id"], campaign_id=data["campaign_id"], family_account=data["family_account"],
        child_first_name=data["child"]["first_name"], child_last_name=data["child"]["last_name"],
    ).on_conflict_do_nothing())


def open_offer(connection: Connection, data: dict[str, Any], offered_at: datetime) -> None:
    """A place offered until `offer_expires_at`, unless the parent already answered it.

    The reminder is due 24 h before the deadline, unless the offer was made later than that: a
    reminder right after the offer itself would only be noise.
    """
    closed = select(closed_offers.c.application_id).where(closed_offers.c.application_id == data["application_id"])
    if connection.execute(closed).first() is not None:
        return
    expires_at = datetime.fromisoformat(data["offer_expires_at"])
    connection.execute(insert(open_offers).values(
        application_id=data["application_id"], family_account=data["family_account"], campaign_id=data["campaign_id"],
        offer_id=data["offer_id"], expires_at=expires_at, remind_at=reminder_time(expires_at, offered_at),
    ).on_conflict_do_nothing())


def close_offer(connection: Connection, application_id: str) -> None:
    connection.execute(insert(closed_offers).values(application_id=application_id).on_conflict_do_nothing())
    connection.execute(delete(open_offers).where(open_offers.c.application_id == application_id))


def facts_for(connection: Connection, kind: str, data: dict[str, Any]) -> Facts:
    """What a notification of `kind` needs beyond its own data (missing pieces stay None)."""
    child_name = None
    if kind in NEEDS_CHILD:
        row = connection.execute(select(applications.c.child_first_name, applications.c.child_last_name)
                                 .where(applications.c.application_id == data["application_id"])).first()
        child_name = None if row is None else f"{row.child_first_name} {row.child_last_name}"
    snapshot = campaign(connection, data["campaign_id"]) if kind in NEEDS_CAMPAIGN else None
    return Facts(child_name=child_name, campaign=snapshot)
