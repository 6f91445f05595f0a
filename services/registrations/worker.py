"""The registrations worker: `python -m services.registrations.worker`.

Keeps the campaign terms intake checks against, writes the intake log into the ledger, relays
the outbox, and rebuilds intake's Redis state from the ledger when it is missing.
"""
from __future__ import annotations

from functools import partial

from services.registrations.campaign_directory import CampaignDirectory
from services.registrations.guard_rebuild import GuardKeeper
from services.registrations.handlers import handle_campaign_event, handle_decision, handle_submissions
from services.registrations.intake_guard import IntakeGuard
from services.registrations.tables import outbox
from shared.config import Settings
from shared.kafka import ConsumerLoop, ensure_topics, group_lag
from shared.observability import configure_logging
from shared.outbox import OutboxRelay
from shared.runtime import Runtime
from shared.topics import ALLOCATION_EVENTS, APPLICATION_SUBMISSIONS, CAMPAIGN_EVENTS
from shared.worker import Loop, run_loops


def intake_group(settings: Settings) -> str:
    return f"{settings.kafka_topic_prefix}registrations-intake"


def build_loops(runtime: Runtime, guard_grace_seconds: float = 10.0) -> list[Loop]:
    settings, engine = runtime.settings, runtime.engine
    directory = CampaignDirectory(engine, runtime.redis)
    write_batch = partial(handle_submissions, engine)
    return [
        ConsumerLoop(settings, f"{settings.kafka_topic_prefix}registrations-campaign-directory", [CAMPAIGN_EVENTS],
                     handler=partial(handle_campaign_event, engine, directory)),
        ConsumerLoop(settings, intake_group(settings), [APPLICATION_SUBMISSIONS],
                     handler=lambda record: write_batch([record]), batch_handler=write_batch),
        ConsumerLoop(settings, f"{settings.kafka_topic_prefix}registrations-decisions", [ALLOCATION_EVENTS],
                     handler=partial(handle_decision, engine, IntakeGuard(runtime.redis))),
        OutboxRelay(engine, outbox, runtime.producer),
        GuardKeeper(engine, runtime.redis, lambda: group_lag(settings, intake_group(settings), APPLICATION_SUBMISSIONS),
                    grace_seconds=guard_grace_seconds),
    ]


def main() -> None:
    settings = Settings.from_env("registrations-worker")
    configure_logging(settings.service_name, settings.log_level)
    ensure_topics(settings)
    runtime = Runtime(settings)
    try:
        # How long Redis must have been empty before the rebuild: submissions already past the guard may
        # still be on their way to the broker (bounded by the producer's 5 s delivery wait).
        run_loops(build_loops(runtime, guard_grace_seconds=float(settings.extra.get("GUICHET_GUARD_GRACE_SECONDS", 10))))
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
