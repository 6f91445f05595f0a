"""Rebuild intake's Redis state from the ledger, never from guesses.

Redis is empty on a first start and after it was lost. Intake refuses submissions (503, retry)
while the `reg:ready` marker is missing, so nothing new is acknowledged meanwhile. The guard
keeper (`handlers.guard_keeper`) calls `rebuild_from_ledger` once the intake consumer has written
every acknowledged application to the ledger: the counters are recomputed from the ledger's
active applications, each campaign's arrival sequence is set at or above the ledger's highest
arrival position (a number is never given twice), and the marker is set.

Several registrations workers may run: the rebuild holds a lease in Redis (redis-py's Lock: a token,
released only by its holder), renewed once the ledger is read, and its final write only lands while
the lease is still its own (WATCH). A second rebuild after the first set the marker would erase what
intake counted in between, and with it a first-come campaign's capacity. Each rebuild that lands
counts itself in `reg:guard-rebuilds`, in the same transaction (what operators, and the test of two
keepers, read).
"""
from __future__ import annotations

import time

import redis
from redis.exceptions import WatchError
from sqlalchemy import Engine, func, select

from services.registrations.domain.applications import ACTIVE_STATUSES
from services.registrations.store.intake_gate import arrival_sequence_key
from services.registrations.store.intake_guard import READY_KEY, active_key, active_value, held_key, waitlist_key
from services.registrations.store.ledger import counted_position
from services.registrations.store.tables import applications

REBUILD_LEASE_KEY = "reg:guard-rebuild-lease"
REBUILDS_KEY = "reg:guard-rebuilds"  # outside the guard's `reg:{campaign}:*` keys: a rebuild does not erase it


def rebuild_from_ledger(engine: Engine, client: redis.Redis, lease_seconds: int = 300) -> int | None:
    """The number of active applications written to the guard, or None when another worker holds
    the rebuild or the guard is already there."""
    lease = client.lock(REBUILD_LEASE_KEY, timeout=lease_seconds, blocking=False)
    if not lease.acquire():
        return None
    try:
        if client.exists(READY_KEY):
            return None
        return _rebuild(engine, client, lease)
    finally:
        _release(client, lease)


def _rebuild(engine: Engine, client: redis.Redis, lease) -> int | None:
    with engine.connect() as connection:
        rows = connection.execute(
            select(applications.c.campaign_id, applications.c.child_id, applications.c.application_id,
                   applications.c.hold, applications.c.status, applications.c.placed_offer_id)
            .where(applications.c.status.in_([str(s) for s in ACTIVE_STATUSES]))).mappings().all()
        # Every application counts here, withdrawn or not: its number was given.
        highest = dict(connection.execute(select(applications.c.campaign_id, func.max(applications.c.arrival_position))
                                          .group_by(applications.c.campaign_id)).all())
    try:
        lease.reacquire()  # a full lease again for the write, if still ours
    except redis.exceptions.LockError:
        return None
    counters: dict[str, int] = {}
    for row in rows:
        offer_id, has_place = counted_position(row)
        if offer_id is None:
            continue
        key = (held_key if has_place else waitlist_key)(row["campaign_id"], offer_id)
        counters[key] = counters.get(key, 0) + 1
    token = lease.local.token
    token = token.decode() if isinstance(token, bytes) else token
    with client.pipeline(transaction=True) as pipeline:
        pipeline.watch(REBUILD_LEASE_KEY, READY_KEY)
        if pipeline.get(REBUILD_LEASE_KEY) != token or pipeline.exists(READY_KEY):
            return None  # the lease ran out while reading the ledger: whoever holds it now rebuilds
        stale = list(pipeline.scan_iter(match="reg:{*}:*", count=1000))
        sequences = _sequences(pipeline, highest)
        pipeline.multi()
        if stale:
            pipeline.delete(*stale)
        for row in rows:
            pipeline.set(active_key(row["campaign_id"], row["child_id"]), active_value(row["application_id"], row["hold"]))
        for key, value in counters.items():
            pipeline.set(key, value)
        for key, value in sequences.items():
            pipeline.set(key, value)
        pipeline.incr(REBUILDS_KEY)
        pipeline.set(READY_KEY, str(time.time()))
        try:
            pipeline.execute()
        except WatchError:
            return None
    return len(rows)


def _sequences(client, highest: dict) -> dict[str, int]:
    """Each campaign's arrival sequence: the ledger's highest position, or what Redis still holds if higher (only
    the marker was lost). Numbers taken by submissions still on their way when Redis was lost are in the ledger by
    now: the keeper rebuilds once intake's consumers caught up, after the grace."""
    sequences = {arrival_sequence_key(campaign_id): int(number) for campaign_id, number in highest.items()}
    kept = list(client.scan_iter(match="reg:{*}:arrivals", count=1000))
    for key, value in zip(kept, client.mget(kept) if kept else []):
        key = key.decode() if isinstance(key, bytes) else key
        if value is not None:
            sequences[key] = max(sequences.get(key, 0), int(value))
    return sequences


def _release(client: redis.Redis, lease) -> None:
    try:
        lease.release()
    except redis.exceptions.LockError:
        pass  # expired and perhaps taken by another worker: theirs now
