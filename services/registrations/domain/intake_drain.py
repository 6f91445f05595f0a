"""When intake has drained past a campaign's close (docs/allocation-service.md#when-the-draw-starts).

An application is acknowledged (202) only once the broker has appended it, within the producer's
delivery wait of its window check; so `grace` after the close, the intake log holds every application
acknowledged before it. The ends of the log's partitions noted then are the target: once the ledger's
consumer has committed up to them on every partition, the ledger holds every one of them, and the
campaign's draw may start."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta


def ready_to_note_target(closed_at: datetime, now: datetime, grace: timedelta) -> bool:
    """Applications acknowledged before the close are all in the log by now."""
    return now >= closed_at + grace


def drained(target: Mapping[int, int], committed: Mapping[int, int]) -> bool:
    """Every partition's consumer is at or past the end noted after the close."""
    return all(committed.get(partition, 0) >= end for partition, end in target.items())
