"""The allocation worker: `python -m services.allocation.worker`.

Copies campaigns and applications from their events, commits each lottery's seed at the opening,
draws lottery campaigns after their close, decides first-come applications as they arrive, follows
parents' answers (confirmations for billing, freed places to the waitlist), expires places not
accepted in time, announces each offer's places given when they change, and relays the outbox.
"""
from __future__ import annotations

import logging
from functools import partial

from services.allocation.bootstrap import AllocationComponents, build_components
from services.allocation.handlers.events import handle_application_records, handle_campaign_record
from services.allocation.handlers.jobs import DrawScheduler, ExpiryLoop, PlacesAnnouncer
from services.allocation.settings import AllocationSettings
from services.allocation.store.repository import seal_clear_seeds
from services.allocation.store.tables import outbox
from shared.clock import utc_now
from shared.kafka import ConsumerLoop, ensure_topics
from shared.observability import configure_logging
from shared.outbox import OutboxRelay
from shared.runtime import Runtime
from shared.topics import APPLICATION_EVENTS, CAMPAIGN_EVENTS
from shared.worker import Loop, run_loops

log = logging.getLogger(__name__)


def build_loops(runtime: Runtime, components: AllocationComponents) -> list[Loop]:
    settings, engine, clock = components.settings, components.engine, components.clock
    handle_applications = partial(handle_application_records, engine, clock)
    return [
        ConsumerLoop(settings, f"{settings.kafka_topic_prefix}allocation-campaigns", [CAMPAIGN_EVENTS],
                     handler=partial(handle_campaign_record, engine, clock)),
        ConsumerLoop(settings, f"{settings.kafka_topic_prefix}allocation-applications", [APPLICATION_EVENTS],
                     handler=lambda record: handle_applications([record]), batch_handler=handle_applications),
        DrawScheduler(engine, clock, settings.draw_delay, when_intake_drained=settings.draw_when_intake_drained),
        ExpiryLoop(engine, clock, settings.offer_grace),
        PlacesAnnouncer(engine, clock),
        OutboxRelay(engine, outbox, runtime.producer),
    ]


def main() -> None:
    settings = AllocationSettings.from_env("allocation-worker")
    configure_logging(settings.service_name, settings.log_level)
    ensure_topics(settings)
    runtime = Runtime(settings)
    try:
        components = build_components(settings, runtime, utc_now)
        with components.engine.begin() as connection:
            # Seeds committed before the service had its key are sealed once it has one (idempotent).
            sealed = seal_clear_seeds(connection)
        if sealed:
            log.info("lottery seeds sealed at rest", extra={"sealed": sealed})
        run_loops(build_loops(runtime, components))
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
