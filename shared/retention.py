"""Retention: what every service's purge shares (docs/privacy.md is the register of what is kept, how long).

A purge deletes what has outlived its period, in one transaction per data set, and says how many rows went;
run again, it finds nothing more (idempotent). Each service's `usecases/purge.py` names its data sets and
periods (typed fields of its settings); `python -m services.<service>.purge` runs it once (a CronJob).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, Table, delete

DAY = timedelta(days=1)

# The outbox keeps an event's whole envelope (personal data included) until the relay published it; the inbox
# (processed_events) only ids, kept longer than any topic keeps a record that could be delivered again.
OUTBOX_KEPT_AFTER_PUBLICATION = timedelta(days=7)


def purge_outbox(connection: Connection, outbox: Table, now: datetime, kept: timedelta) -> int:
    """Published events older than `kept`; an unpublished one is never deleted."""
    return connection.execute(delete(outbox).where(outbox.c.published_at.is_not(None),
                                                   outbox.c.published_at < now - kept)).rowcount


def purge_inbox(connection: Connection, inbox: Table, now: datetime, kept: timedelta) -> int:
    return connection.execute(delete(inbox).where(inbox.c.processed_at < now - kept)).rowcount


def run_purges(engine: Engine, steps: Mapping[str, Callable[[Connection], int]]) -> dict[str, int]:
    """Each data set in its own transaction: a failure leaves the ones before it purged, and a rerun does the rest."""
    counts = {}
    for name, step in steps.items():
        with engine.begin() as connection:
            counts[name] = step(connection)
    return counts


def command(settings, purge: Callable[[Engine, datetime], dict[str, int]]) -> int:
    """The body of `python -m services.<service>.purge`: purge once, print what went as JSON, exit 0."""
    import json

    from shared.clock import utc_now
    from shared.observability import configure_logging
    from shared.runtime import Runtime

    configure_logging(settings.service_name, settings.log_level)
    runtime = Runtime(settings)
    try:
        counts = purge(runtime.engine, utc_now())
    finally:
        runtime.close()
    print(json.dumps({"service": settings.service_name, "purged": counts}))
    return 0
