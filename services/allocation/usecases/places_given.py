"""Announces how many places of each offer are given (`offer.places_given`), for campaigns' public
"places remaining" and its capacity guard.

One loop counts the live places (offered or accepted) of every offer and announces the counts that
changed since the last announcement, with the stored count, in one transaction (outbox). Counting
after the fact, rather than at each of the many places where a place changes (draws, first-come
decisions, answers, expiries, withdrawals, promotions), means no path can forget to announce; the
count is at most one round late. Each offer's announcements carry an increasing revision, so a
consumer that sees an older one after a newer one keeps the newer.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from services.allocation.store import outbox_events
from services.allocation.store.announced_places import changed_place_counts, save_announced_count, try_lock_announcer


def announce_changed_counts(connection: Connection, now: datetime) -> int:
    """Announce every offer whose given places differ from its last announcement; how many were."""
    if not try_lock_announcer(connection):
        return 0  # another replica is announcing
    changed = changed_place_counts(connection)
    for offer_id, campaign_id, given, revision in changed:
        revision = (revision or 0) + 1
        save_announced_count(connection, offer_id, campaign_id, given, revision, now)
        outbox_events.publish(connection, outbox_events.places_given(campaign_id, offer_id, given, revision, now),
                              key=campaign_id)
    return len(changed)
