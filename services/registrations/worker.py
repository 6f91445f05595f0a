"""The registrations worker: `python -m services.registrations.worker`.

Keeps the campaign terms intake checks against, writes the intake log into the ledger, relays
the outbox, and rebuilds intake's Redis state from the ledger when it is missing.
"""
from __future__ import annotations

from functools import partial

from services.registrations.bootstrap import RegistrationsComponents, build_components
from services.registrations.handlers.events import (
    handle_campaign_event,
    handle_decision,
    handle_decisions,
    handle_submissions,
)
from services.registrations.handlers.guard_keeper import GuardKeeper
from services.registrations.handlers.intake_drain import IntakeDrainLoop
from services.registrations.settings import RegistrationsSettings
from services.registrations.store.tables import outbox
from services.registrations.usecases.intake_drain import IntakeDrain
from shared.config import Settings
from shared.kafka import ConsumerLoop, ensure_topics, group_lag, group_positions
from shared.observability import configure_logging
from shared.outbox import OutboxRelay
from shared.runtime import Runtime
from shared.topics import ALLOCATION_EVENTS, APPLICATION_SUBMISSIONS, CAMPAIGN_EVENTS
from shared.worker import Loop, run_loops


def intake_group(settings: Settings) -> str:
    return f"{settings.kafka_topic_prefix}registrations-intake"


# How the intake consumer reads the log. A writer that keeps up with a surge fetched a few records at a time and
# paid a transaction's fixed cost (about ten statements) for each handful: waiting up to 200 ms for 64 KB (some 70
# records) and writing a poll's records of every partition in one transaction took 0.8 -> 0.35 ms of its CPU per row
# at 400 rows/s (docs/PERFORMANCE.md, issue 19). The ledger then trails the 202s by up to 200 ms more. Larger polls
# are cheaper still (25 / 50 / 100 / 250 records: 0.39 / 0.26 / 0.23 / 0.22 ms of the writer's CPU a row, `python -m
# bench.ledger_writer --batch 25 50 100 250`), but 192 KB or 500 ms (fetch wait equal to the consumer's 500 ms poll
# timeout) left a lone submission out of the ledger for more than 5 s in the page tests: not taken until understood.
INTAKE_CONSUMER = {"across_partitions": True, "fetch_min_bytes": 65_536, "fetch_max_wait_ms": 200}

# How long the outbox relay waits after a round that emptied the outbox. Each round is a transaction, a flush and
# an acknowledgement whatever its size: during a surge the ledger writer's `application.received` went out in rounds
# of 25-50 at 0.26 / 0.17 ms of the worker's CPU an event (PostgreSQL 0.07 / 0.05), against 0.11-0.15 (0.03) in
# rounds of 125 (a scratch run of the relay by round size, docs/PERFORMANCE.md, issue 19). Every event still goes out
# in order, at most half a second later; a backlog (a draw's events) is relayed without waiting, as before.
RELAY_IDLE_SECONDS = 0.5


def build_loops(components: RegistrationsComponents) -> list[Loop]:
    settings, engine, runtime = components.settings, components.engine, components.runtime
    write_batch = partial(handle_submissions, engine)
    return [
        ConsumerLoop(settings, f"{settings.kafka_topic_prefix}registrations-campaign-directory", [CAMPAIGN_EVENTS],
                     handler=partial(handle_campaign_event, engine, components.campaigns)),
        ConsumerLoop(settings, intake_group(settings), [APPLICATION_SUBMISSIONS],
                     handler=lambda record: write_batch([record]), batch_handler=write_batch, **INTAKE_CONSUMER),
        ConsumerLoop(settings, f"{settings.kafka_topic_prefix}registrations-decisions", [ALLOCATION_EVENTS],
                     handler=partial(handle_decision, engine, components.guard),
                     batch_handler=partial(handle_decisions, engine, components.guard),
                     max_poll_records=settings.decisions_max_poll_records),
        OutboxRelay(engine, outbox, runtime.producer, idle_seconds=RELAY_IDLE_SECONDS),
        # The grace: submissions already past the guard may still be on their way to the broker.
        GuardKeeper(engine, components.redis,
                    lambda: group_lag(settings, intake_group(settings), APPLICATION_SUBMISSIONS),
                    grace_seconds=settings.guard_grace.total_seconds()),
        # Tells allocation when the ledger holds every application acknowledged before a close (the same
        # grace bounds submissions still on their way to the broker).
        IntakeDrainLoop(IntakeDrain(engine, components.clock,
                                    lambda: group_positions(settings, intake_group(settings), APPLICATION_SUBMISSIONS),
                                    settings.guard_grace)),
    ]


def main() -> None:
    settings = RegistrationsSettings.from_env("registrations-worker")
    configure_logging(settings.service_name, settings.log_level)
    ensure_topics(settings)
    runtime = Runtime(settings)
    try:
        run_loops(build_loops(build_components(settings, runtime)))
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
