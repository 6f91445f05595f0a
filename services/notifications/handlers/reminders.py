"""Reminds a family 24 h before an offered place expires, once; and, when it asked for it, 24 h before a
campaign's applications close, once per close.

The reminder is queued in the transaction that marks the offer reminded, and its dedup key names
the application (offered a place at most once): a scheduler that dies before the commit left
neither and reminds after its restart; two schedulers at once take different offers (SKIP LOCKED).
An offer whose deadline passed while no scheduler ran gets no late reminder.

A closing reminder's dedup key names the campaign, the family and the close: an extended close is reminded
again, the same close never twice. It names the children the family already applied for, so a family with
one child still to apply for knows it.
"""
from __future__ import annotations

from sqlalchemy import Engine, select, update

from services.notifications.domain.closing import CLOSING_AHEAD
from services.notifications.store.queue import queue
from services.notifications.store.subscriptions import due_closing_reminders, mark_reminded
from services.notifications.store.tables import applications, open_offers
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


def remind_closing(engine: Engine, clock: Clock, batch_size: int = 200) -> int:
    """Queue the closing reminder of every family who asked for it and whose campaign closes within 24 h;
    returns how many were queued."""
    with engine.begin() as connection:
        now = clock()
        due = due_closing_reminders(connection, now, CLOSING_AHEAD, batch_size)
        for request in due:
            applied_for = connection.execute(
                select(applications.c.child_first_name, applications.c.child_last_name)
                .where(applications.c.family_account == request["family_account"],
                       applications.c.campaign_id == request["campaign_id"])
                .order_by(applications.c.child_first_name)).all()
            closes_at = request["closes_at"].isoformat()
            queue(connection, dedup_key=f"campaign-closing/{request['campaign_id']}/{closes_at}/"
                                        f"{request['family_account']}",
                  family_account=request["family_account"], kind="campaign_closing", now=now,
                  data={"campaign_id": str(request["campaign_id"]), "family_account": request["family_account"],
                        "closes_at": closes_at,
                        "applied_for": sorted({f"{row.child_first_name} {row.child_last_name}"
                                               for row in applied_for})})
            mark_reminded(connection, request["family_account"], request["campaign_id"], request["closes_at"])
    return len(due)
