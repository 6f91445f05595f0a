"""Rebuild intake's Redis state from the ledger, never from guesses.

Redis is empty on a first start and after it was lost. Intake refuses submissions (503, retry)
while the `reg:ready` marker is missing, so nothing new is acknowledged meanwhile. The guard
keeper (`handlers.guard_keeper`) calls `rebuild_from_ledger` once the intake consumer has written
every acknowledged application to the ledger: the counters are recomputed from the ledger's
active applications and the marker is set.
"""
from __future__ import annotations

import time

import redis
from sqlalchemy import Engine, select

from services.registrations.domain.applications import ACTIVE_STATUSES
from services.registrations.store.intake_guard import READY_KEY, active_key, active_value, held_key, waitlist_key
from services.registrations.store.ledger import counted_position
from services.registrations.store.tables import applications


def rebuild_from_ledger(engine: Engine, client: redis.Redis) -> int:
    with engine.connect() as connection:
        rows = connection.execute(
            select(applications.c.campaign_id, applications.c.child_id, applications.c.application_id,
                   applications.c.hold, applications.c.status, applications.c.placed_offer_id)
            .where(applications.c.status.in_([str(s) for s in ACTIVE_STATUSES]))).mappings().all()
    counters: dict[str, int] = {}
    for row in rows:
        offer_id, has_place = counted_position(row)
        if offer_id is None:
            continue
        key = (held_key if has_place else waitlist_key)(row["campaign_id"], offer_id)
        counters[key] = counters.get(key, 0) + 1
    stale = list(client.scan_iter(match="reg:{*}:*", count=1000))
    pipeline = client.pipeline(transaction=True)
    if stale:
        pipeline.delete(*stale)
    for row in rows:
        pipeline.set(active_key(row["campaign_id"], row["child_id"]), active_value(row["application_id"], row["hold"]))
    for key, value in counters.items():
        pipeline.set(key, value)
    pipeline.set(READY_KEY, str(time.time()))
    pipeline.execute()
    return len(rows)
