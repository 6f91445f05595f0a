"""Rebuild intake's Redis state from the ledger, never from guesses.

Redis is empty on a first start and after it was lost. Intake refuses submissions (503, retry)
while the `reg:ready` marker is missing, so nothing new is acknowledged meanwhile. The guard
keeper (`handlers.guard_keeper`) calls `rebuild_from_ledger` once the intake consumer has written
every acknowledged application to the ledger: the counters are recomputed from the ledger's
active applications and the marker is set.

Several registrations workers may run: the rebuild holds a lease in Redis, and its final write
only lands while the lease is still its own (WATCH). A second rebuild after the first set the
marker would erase what intake counted in between, and with it a first-come campaign's capacity.
"""
from __future__ import annotations

import time

import redis
from redis.exceptions import WatchError
from sqlalchemy import Engine, select

from services.registrations.domain.applications import ACTIVE_STATUSES
from services.registrations.store.intake_guard import READY_KEY, active_key, active_value, held_key, waitlist_key
from services.registrations.store.ledger import counted_position
from services.registrations.store.tables import applications

REBUILD_LEASE_KEY = "reg:guard-rebuild-lease"


def rebuild_from_ledger(engine: Engine, client: redis.Redis, lease_seconds: int = 300) -> int | None:
    """The number of active applications written to the guard, or None when another worker holds
    the rebuild or the guard is already there."""
    lease = client.lock(REBUILD_LEASE_KEY, timeout=lease_seconds, blocking=False)
    if not lease.acquire():
        return None
    try:
        if client.exists(READY_KEY):
            return None
        return _rebuild(engine, client, lease.local.token)
    finally:
        _release(client, lease)


def _rebuild(engine: Engine, client: redis.Redis, lease_token: str | bytes) -> int | None:
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
    token = lease_token.decode() if isinstance(lease_token, bytes) else lease_token
    with client.pipeline(transaction=True) as pipeline:
        pipeline.watch(REBUILD_LEASE_KEY, READY_KEY)
        if pipeline.get(REBUILD_LEASE_KEY) != token or pipeline.exists(READY_KEY):
            return None  # the lease ran out while reading the ledger: whoever holds it now rebuilds
        stale = list(pipeline.scan_iter(match="reg:{*}:*", count=1000))
        pipeline.multi()
        if stale:
            pipeline.delete(*stale)
        for row in rows:
            pipeline.set(active_key(row["campaign_id"], row["child_id"]), active_value(row["application_id"], row["hold"]))
        for key, value in counters.items():
            pipeline.set(key, value)
        pipeline.set(READY_KEY, str(time.time()))
        try:
            pipeline.execute()
        except WatchError:
            return None
    return len(rows)


def _release(client: redis.Redis, lease) -> None:
    try:
        lease.release()
    except redis.exceptions.LockError:
        pass  # expired and perhaps taken by another worker: theirs now
