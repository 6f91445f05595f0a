"""Reminds a family 24 h before an offered place expires, once.

The reminder is queued in the transaction that marks the offer reminded, and its dedup key names
the application (offered a place at most once): a scheduler that dies before the commit left
neither and reminds after its restart; two schedulers at once take different offers (SKIP LOCKED).
An offer whose deadline passed while no scheduler ran gets no late reminder.
"""
from __future__ import annotations

from sqlalchemy import Engine, select, update

from services.notifications.store.queue import queue
from services.notifications.store.tables import open_offers
from shared.clock import Clock


def remind_due(engine: Engine, clock: Clock, batch_size: int = 200) -> int:
    """Queue every reminder due now for an offer not yet expired; returns how many were queued."""
    with engine.begin() as connection:
        now = clock()
        due = connection.execute(
            select(open_offers)
            .where(open_offers.c.remind_at <= now, open_offers.c.expires_at > now, open_offers.c.reminded.is_(False))
            .order_by(open_offers.c.remind_at).limit(batch_size).with_for_update(skip_locked=True)).mappings().all()
        for offer in due:
            queue(connection, dedup_key=f"offer-reminder/{offer['application_id']}",
                  family_account=offer["family_account"], kind="offer_reminder", now=now,
                  data={"application_id": str(offer["application_id"]), "campaign_id": str(offer["campaign_id"]),
                        "family_account": offer["family_account"], "offer_id": str(offer["offer_id"]),
                        "offer_expires_at": offer["expires_at"].isoformat()})
        connection.execute(update(open_offers)
                           .where(open_offers.c.application_id.in_([offer["application_id"] for offer in due]))
                           .values(reminded=True))
    return len(due)
