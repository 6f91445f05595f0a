"""The allocation worker: `python -m services.allocation.worker`.

Copies campaigns and applications from their events, commits each lottery's seed at the opening,
draws lottery campaigns after their close, decides first-come applications as they arrive, follows
parents' answers (confirmations for billing, freed places to the waitlist), expires places not
accepted in time, announces each offer's places given when they change, and relays the outbox.
"""
from __future__ import annotations

from functools import partial

from shared.clock import Clock, utc_now
from services.allocation.draws import DrawScheduler
from services.allocation.expiry import ExpiryLoop
from services.allocation.handlers import handle_application_records, handle_campaign_record
from services.allocation.options import AllocationOptions
from services.allocation.places_announcer import PlacesAnnouncer
from services.allocation.tables import outbox
from shared.config import Settings
from shared.kafka import ConsumerLoop, ensure_topics
from shared.observability import configure_logging
from shared.outbox import OutboxRelay
from shared.runtime import Runtime
from shared.topics import APPLICATION_EVENTS, CAMPAIGN_EVENTS
from shared.worker import Loop, run_loops


def build_loops(runtime: Runtime, options: AllocationOptions, clock: Clock = utc_now) -> list[Loop]:
    settings, engine = runtime.settings, runtime.engine
    handle_applications = partial(handle_application_records, engine, clock)
    return [
        ConsumerLoop(settings, f"{settings.kafka_topic_prefix}allocation-campaigns", [CAMPAIGN_EVENTS],
                     handler=partial(handle_campaign_record, engine, clock)),
        ConsumerLoop(settings, f"{settings.kafka_topic_prefix}allocation-applications", [APPLICATION_EVENTS],
                     handler=lambda record: handle_applications([record]), batch_handler=handle_applications),
        DrawScheduler(engine, clock, options.draw_delay),
        ExpiryLoop(engine, clock, options.offer_grace),
        PlacesAnnouncer(engine, clock),
        OutboxRelay(engine, outbox, runtime.producer),
    ]


def main() -> None:
    settings = Settings.from_env("allocation-worker")
    configure_logging(settings.service_name, settings.log_level)
    ensure_topics(settings)
    runtime = Runtime(settings)
    try:
        run_loops(build_loops(runtime, AllocationOptions.from_settings(settings)))
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
